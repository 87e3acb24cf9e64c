package org.spreadosd.ds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.util.DurableFiles;

/**
 * The update log of one replication-set on one DS: every version stored or deleted here, in the order it
 * happened, appended and fsynced before the write is acknowledged. Peers of the set read it from a
 * position they keep ({@link LogPosition}) to learn what they missed while they were away.
 *
 * <p>A record is {@code length, crc32c, op, seq, vtime, size, blobCrc, cumulativeBytes, keyLength, key}.
 * A crash can leave a torn last record; it was never acknowledged, so opening the log cuts it off. The
 * log's id, written in its first bytes, changes when a log is created anew (a lost disk), so a peer
 * holding a position in an older log starts over instead of skipping.
 */
public final class UpdateLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UpdateLog.class);
    private static final long MAGIC = 0x5350524455_4C4F47L; // "SPRDULOG"
    private static final int FILE_HEADER = 8 + 16;
    private static final int RECORD_FIXED = 4 + 4 + 1 + 8 + 8 + 8 + 4 + 8 + 2;
    private static final int MAX_KEY = 65535;

    public enum Op {
        PUT,
        DELETE
    }

    /** One logged change; {@code next} is the position just after it. */
    public record Entry(
            Op op, long seq, long vtime, byte[] key, long size, int blobCrc, long cumulativeBytes, long next) {}

    /** Where the log ends: its byte offset, the sequence number of its last entry and the bytes stored so far. */
    public record Tail(UUID logId, long offset, long seq, long cumulativeBytes) {}

    private final Path file;
    private final FileChannel ch;
    private final DurableFiles files;
    private final UUID logId;
    /** Where the written records end; {@link #durable} is how far of that an fsync has covered. */
    private volatile Tail tail;

    private volatile Tail durable;
    private final Object syncLock = new Object();

    private UpdateLog(Path file, FileChannel ch, DurableFiles files, UUID logId, Tail tail) {
        this.file = file;
        this.ch = ch;
        this.files = files;
        this.logId = logId;
        this.tail = tail;
        this.durable = tail;
    }

    public static UpdateLog open(Path file) throws IOException {
        return open(file, DurableFiles.DISK);
    }

    public static UpdateLog open(Path file, DurableFiles files) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        files.createDirectories(dir);
        FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (ch.size() < FILE_HEADER) {
                UUID id = UUID.randomUUID();
                ByteBuffer h = ByteBuffer.allocate(FILE_HEADER)
                        .putLong(MAGIC)
                        .putLong(id.getMostSignificantBits())
                        .putLong(id.getLeastSignificantBits())
                        .flip();
                ch.truncate(0);
                DurableFiles.writeFully(ch, h, 0);
                files.force(ch);
                files.forceDirectory(dir);
                return new UpdateLog(file, ch, files, id, new Tail(id, FILE_HEADER, 0, 0));
            }
            ByteBuffer h = ByteBuffer.allocate(FILE_HEADER);
            read(ch, h, 0);
            h.flip();
            if (h.getLong() != MAGIC) {
                throw new IOException(file + " is not an update log");
            }
            UUID id = new UUID(h.getLong(), h.getLong());
            UpdateLog opened = new UpdateLog(file, ch, files, id, new Tail(id, FILE_HEADER, 0, 0));
            opened.recoverTail();
            return opened;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private void recoverTail() throws IOException {
        long offset = FILE_HEADER;
        long seq = 0;
        long bytes = 0;
        long size = ch.size();
        while (true) {
            Entry e = readEntry(offset, size);
            if (e == null) {
                break;
            }
            offset = e.next();
            seq = e.seq();
            bytes = e.cumulativeBytes();
        }
        if (offset < size) {
            log.warn(
                    "update log {}: cut off {} bytes of a record torn by a crash (never acknowledged)",
                    file,
                    size - offset);
            ch.truncate(offset);
            files.force(ch);
        }
        tail = new Tail(logId, offset, seq, bytes);
        durable = tail;
    }

    public UUID id() {
        return logId;
    }

    /** Where the durable part of the log ends: peers read and count only what a crash cannot take back. */
    public Tail tail() {
        return durable;
    }

    /**
     * Appends one change and makes it durable before returning. Appends are written in order under the log's
     * lock, but the fsync is shared: concurrent writers wait for one force that covers all of them (group
     * commit), so a busy DS does not do one log fsync per add in a row.
     */
    public Entry append(Op op, long vtime, byte[] key, long size, int blobCrc) throws IOException {
        if (key.length > MAX_KEY) {
            throw new IllegalArgumentException("key of " + key.length + " bytes is longer than the update log allows");
        }
        Entry e = write(op, vtime, key, size, blobCrc);
        syncThrough(e.next());
        return e;
    }

    private void syncThrough(long offset) throws IOException {
        if (durable.offset() >= offset) {
            return;
        }
        synchronized (syncLock) {
            if (durable.offset() >= offset) {
                return;
            }
            Tail written = tail;
            files.forceData(ch);
            durable = written;
        }
    }

    private synchronized Entry write(Op op, long vtime, byte[] key, long size, int blobCrc) throws IOException {
        Tail t = tail;
        long seq = t.seq() + 1;
        long cumulative = t.cumulativeBytes() + (op == Op.PUT ? size : 0);
        ByteBuffer body = ByteBuffer.allocate(RECORD_FIXED - 8 + key.length);
        body.put((byte) op.ordinal())
                .putLong(seq)
                .putLong(vtime)
                .putLong(size)
                .putInt(blobCrc)
                .putLong(cumulative)
                .putShort((short) key.length)
                .put(key)
                .flip();
        CRC32C crc = new CRC32C();
        crc.update(body.duplicate());
        ByteBuffer record = ByteBuffer.allocate(8 + body.remaining());
        record.putInt(body.remaining()).putInt((int) crc.getValue()).put(body).flip();
        long next = t.offset() + record.remaining();
        DurableFiles.writeFully(ch, record, t.offset());
        tail = new Tail(logId, next, seq, cumulative);
        return new Entry(op, seq, vtime, key, size, blobCrc, cumulative, next);
    }

    /** Up to {@code max} entries from {@code offset} (a position a previous read or the tail gave). */
    public List<Entry> read(long offset, int max) throws IOException {
        Tail t = durable;
        if (offset < FILE_HEADER || offset > t.offset()) {
            throw new IllegalArgumentException(
                    "position " + offset + " is outside the update log (it ends at " + t.offset() + ")");
        }
        List<Entry> out = new ArrayList<>();
        while (out.size() < max && offset < t.offset()) {
            Entry e = readEntry(offset, t.offset());
            if (e == null) {
                throw new IOException("update log " + file + " is damaged at " + offset);
            }
            out.add(e);
            offset = e.next();
        }
        return out;
    }

    /** The entry at {@code offset}, or null when the bytes up to {@code limit} do not hold a whole, intact one. */
    private Entry readEntry(long offset, long limit) throws IOException {
        if (limit - offset < 8) {
            return null;
        }
        ByteBuffer lead = ByteBuffer.allocate(8);
        read(ch, lead, offset);
        lead.flip();
        int length = lead.getInt();
        int expectedCrc = lead.getInt();
        if (length < RECORD_FIXED - 8 || length > RECORD_FIXED - 8 + MAX_KEY || limit - offset - 8 < length) {
            return null;
        }
        ByteBuffer body = ByteBuffer.allocate(length);
        read(ch, body, offset + 8);
        body.flip();
        CRC32C crc = new CRC32C();
        crc.update(body.duplicate());
        if ((int) crc.getValue() != expectedCrc) {
            return null;
        }
        Op op = Op.values()[body.get()];
        long seq = body.getLong();
        long vtime = body.getLong();
        long size = body.getLong();
        int blobCrc = body.getInt();
        long cumulative = body.getLong();
        byte[] key = new byte[Short.toUnsignedInt(body.getShort())];
        body.get(key);
        return new Entry(op, seq, vtime, key, size, blobCrc, cumulative, offset + 8 + length);
    }

    public static long start() {
        return FILE_HEADER;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }

    private static void read(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, position);
            if (n < 0) {
                throw new IOException("unexpected end of update log");
            }
            position += n;
        }
    }
}
