package org.spreadosd.ds;

import static org.spreadosd.util.DurableFiles.writeFully;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;

/**
 * A version on its way into a {@link DataStore}: a temp file its bytes are appended to as they arrive, with
 * their CRC-32C computed on the way, then committed whole ({@link #finish}) or dropped ({@link #close}). Every
 * write of a version, whole or streamed, goes through here, so each gets the same checks: the size limit, the
 * announced size and checksum, the version's lock against a delete or a second copy.
 *
 * <p>Its steps may run on different threads, one after another; they are synchronized so that a close that comes
 * while an append is still running (an upload failing on the network) waits for it.
 */
public final class PendingWrite implements AutoCloseable {
    private final DataStore store;
    private final Path tmp;
    private final Path target;
    private final BlobHeader placeholder;
    private final long expectedSize;
    private final Integer expectedCrc;
    private final FileChannel ch;
    private final CRC32C crc = new CRC32C();
    private long size;
    private boolean done;

    PendingWrite(DataStore store, Path tmp, Path target, BlobHeader placeholder, long expectedSize, Integer expectedCrc)
            throws IOException {
        this.store = store;
        this.tmp = tmp;
        this.target = target;
        this.placeholder = placeholder;
        this.expectedSize = expectedSize;
        this.expectedCrc = expectedCrc;
        this.ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            writeFully(ch, placeholder.encode(), 0);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Writes the next bytes of the version (all of {@code bytes}) after those appended before. */
    public synchronized void append(ByteBuffer bytes) throws IOException {
        checkOpen();
        long grown = size + bytes.remaining();
        if (grown > store.maxObjectBytes()) {
            throw DataStore.tooLarge(grown, store.maxObjectBytes());
        }
        crc.update(bytes.duplicate());
        writeFully(ch, bytes, placeholder.length() + size);
        size = grown;
    }

    /**
     * Checks what arrived against what the sender announced, writes the real header, forces the file and commits
     * it; answers only once the version is durable and logged.
     *
     * @throws SpreadFailure {@code CORRUPT} when the bytes do not match the announced checksum
     */
    public synchronized StoredBlob finish() throws IOException {
        checkOpen();
        try {
            String version = "version " + placeholder.vtime() + " of " + Keys.printable(placeholder.key());
            if (expectedSize >= 0 && size != expectedSize) {
                throw new IOException("upload ended after " + size + " of " + expectedSize + " bytes");
            }
            if (expectedCrc != null && (int) crc.getValue() != expectedCrc) {
                throw new SpreadFailure(
                        FailureCode.CORRUPT, version + " received does not match the checksum its sender announced");
            }
            BlobHeader header = new BlobHeader(
                    placeholder.key(),
                    placeholder.vtime(),
                    placeholder.rsid(),
                    size,
                    (int) crc.getValue(),
                    placeholder.storedAtMillis(),
                    placeholder.contentType());
            writeFully(ch, header.encode(), 0);
            store.files().force(ch);
            ch.close();
            store.commit(tmp, target, header);
            return new StoredBlob(target, header);
        } finally {
            close();
        }
    }

    /** Drops the version unless it was committed: closes and deletes the temp file. */
    @Override
    public synchronized void close() throws IOException {
        done = true;
        try {
            ch.close();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void checkOpen() throws IOException {
        if (done) {
            throw new IOException("the write of " + tmp.getFileName() + " was closed");
        }
    }
}
