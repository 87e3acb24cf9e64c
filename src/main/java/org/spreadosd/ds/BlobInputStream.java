package org.spreadosd.ds;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/** Reads a slice of a blob file; when it covers the whole version, checks the CRC-32C at the end. */
final class BlobInputStream extends InputStream {
    private static final Logger log = LoggerFactory.getLogger(BlobInputStream.class);

    private final FileChannel channel;
    private final Integer expectedCrc;
    private final CRC32C crc = new CRC32C();
    private final Path path;
    private long position;
    private long remaining;
    private boolean verified;

    BlobInputStream(FileChannel channel, long position, long length, Integer expectedCrc, Path path) {
        this.channel = channel;
        this.position = position;
        this.remaining = length;
        this.expectedCrc = expectedCrc;
        this.path = path;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (remaining == 0) {
            verify();
            return -1;
        }
        int want = (int) Math.min(len, remaining);
        int n = channel.read(ByteBuffer.wrap(b, off, want), position);
        if (n < 0) {
            throw new SpreadFailure(
                    FailureCode.CORRUPT, "blob " + path.getFileName() + " is shorter than its header says");
        }
        if (expectedCrc != null) {
            crc.update(b, off, n);
        }
        position += n;
        remaining -= n;
        if (remaining == 0) {
            // Checked before the last bytes are handed out: a reader of corrupt data never receives a
            // complete response, so an HTTP client sees a truncated body instead of silently bad bytes.
            verify();
        }
        return n;
    }

    private void verify() {
        if (verified) {
            return;
        }
        verified = true;
        if (expectedCrc != null && (int) crc.getValue() != expectedCrc) {
            log.error(
                    "checksum mismatch in {}: stored {} computed {}",
                    path,
                    Integer.toHexString(expectedCrc),
                    Integer.toHexString((int) crc.getValue()));
            throw new SpreadFailure(FailureCode.CORRUPT, "checksum mismatch in " + path.getFileName());
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
