package org.spreadosd.ds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/**
 * The header in front of the bytes of every stored version. It makes each file self-describing
 * (key, vtime, rsid, size, checksum, content type), so a DS can list, verify and copy its store
 * without the metadata store, and it carries its own checksum so a torn header is detected.
 *
 * <pre>
 * magic "SPRDOSD1" | header length u32 | vtime i64 | rsid i32 | size i64 | data crc32c i32 |
 * stored-at millis i64 | content type length u16 + UTF-8 | key length u32 + bytes | header crc32c i32
 * </pre>
 */
public record BlobHeader(
        byte[] key, long vtime, int rsid, long size, int crc32c, long storedAtMillis, String contentType) {
    private static final byte[] MAGIC = "SPRDOSD1".getBytes(StandardCharsets.US_ASCII);
    private static final int FIXED = MAGIC.length + 4 + 8 + 4 + 8 + 4 + 8 + 2 + 4 + 4;

    /** The version this header stores. */
    public VersionId version() {
        return new VersionId(rsid, key, vtime);
    }

    public int length() {
        return FIXED + contentTypeBytes().length + key.length;
    }

    private byte[] contentTypeBytes() {
        return contentType == null ? new byte[0] : contentType.getBytes(StandardCharsets.UTF_8);
    }

    public ByteBuffer encode() {
        byte[] ct = contentTypeBytes();
        ByteBuffer b = ByteBuffer.allocate(length());
        b.put(MAGIC)
                .putInt(length())
                .putLong(vtime)
                .putInt(rsid)
                .putLong(size)
                .putInt(crc32c)
                .putLong(storedAtMillis);
        b.putShort((short) ct.length).put(ct);
        b.putInt(key.length).put(key);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.flip();
    }

    /** Reads and checks the header at the start of a blob file. */
    public static BlobHeader read(FileChannel ch) throws IOException {
        ByteBuffer fixed = ByteBuffer.allocate(MAGIC.length + 4);
        readFully(ch, fixed, 0);
        byte[] magic = new byte[MAGIC.length];
        fixed.flip().get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new SpreadFailure(FailureCode.CORRUPT, "not a SpreadOSD blob (bad magic)");
        }
        int length = fixed.getInt();
        if (length < FIXED || length > FIXED + 65535 + (1 << 20)) {
            throw new SpreadFailure(FailureCode.CORRUPT, "bad header length " + length);
        }
        ByteBuffer b = ByteBuffer.allocate(length);
        readFully(ch, b, 0);
        b.flip();
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, length - 4);
        if ((int) crc.getValue() != b.getInt(length - 4)) {
            throw new SpreadFailure(FailureCode.CORRUPT, "header checksum mismatch");
        }
        b.position(MAGIC.length + 4);
        long vtime = b.getLong();
        int rsid = b.getInt();
        long size = b.getLong();
        int dataCrc = b.getInt();
        long storedAt = b.getLong();
        byte[] ct = new byte[Short.toUnsignedInt(b.getShort())];
        b.get(ct);
        byte[] key = new byte[b.getInt()];
        b.get(key);
        return new BlobHeader(
                key,
                vtime,
                rsid,
                size,
                dataCrc,
                storedAt,
                ct.length == 0 ? null : new String(ct, StandardCharsets.UTF_8));
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, position + b.position());
            if (n < 0) {
                throw new SpreadFailure(FailureCode.CORRUPT, "blob file truncated in its header");
            }
        }
    }
}
