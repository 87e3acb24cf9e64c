package org.spreadosd.ds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
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
 * log's id, written in its first bytes, changes when a log is created anew (a lost disk) or rewritten
 * around a damaged record, so a peer holding a position in an older log starts over instead of skipping.
 * Damage is found when the log is opened, or by a read while it runs (bit rot under records already
 * written); both rewrite it the same way.
 */
public final class UpdateLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(UpdateLog.class);
    private static final long MAGIC = 0x5350524455_4C4F47L; // "SPRDULOG"
    private static final int FILE_HEADER = 8 + 16;
    private static final int RECORD_FIXED = 4 + 4 + 1 + 8 + 8 + 8 + 4 + 8 + 2;
    private static final int MAX_KEY = 65535;
    private static final int MAX_RECORD = RECORD_FIXED + MAX_KEY;

    public enum Op {
        PUT,
        DELETE
    }

    /** One logged change; {@code next} is the position just after it. */
    public record Entry(
            Op op, long seq, long vtime, byte[] key, long size, int blobCrc, long cumulativeBytes, long next) {}

    /** Where the log ends: its byte offset, the sequence number of its last entry and the bytes stored so far. */
    public record Tail(UUID logId, long offset, long seq, long cumulativeBytes) {}

    /**
     * Entries read from {@code from} in the log {@code tail.logId}, whose durable end was {@code tail} when they
     * were read. {@code from} is the log's start when the position asked for belongs to no record of that log.
     */
    public record Batch(Tail tail, long from, List<Entry> entries) {}

    /** The file a log id is written in: a rewrite while running replaces both at once. */
    private record Generation(UUID id, FileChannel ch) {}

    /** A generation with a durable end of that same generation. */
    private record Snapshot(Generation gen, Tail durable) {}

    private final Path file;
    private final DurableFiles files;
    /** Changed only under this log's lock and {@link #syncLock} together, with {@link #tail} and {@link #durable}. */
    private volatile Generation gen;
    /** Where the written records end; {@link #durable} is how far of that an fsync has covered. */
    private volatile Tail tail;

    private volatile Tail durable;
    private final Object syncLock = new Object();

    private UpdateLog(Path file, FileChannel ch, DurableFiles files, Tail tail) {
        this.file = file;
        this.files = files;
        this.gen = new Generation(tail.logId(), ch);
        this.tail = tail;
        this.durable = tail;
    }

    public static UpdateLog open(Path file) throws IOException {
        return open(file, DurableFiles.DISK);
    }

    /**
     * Opens the log at {@code file}, creating it empty when there is none. A torn last record (cut short by a
     * crash, never made durable) is cut off under the same id. Any other damage (a record with intact ones
     * after it, or a whole last record failing its checksum: bit rot) makes a new log of the intact records
     * under a new id, so that peers read it again from its start (see {@link #rewrite}).
     */
    public static UpdateLog open(Path file, DurableFiles files) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        files.createDirectories(dir);
        FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (ch.size() < FILE_HEADER) {
                UUID id = UUID.randomUUID();
                ch.truncate(0);
                DurableFiles.writeFully(ch, fileHeader(id), 0);
                files.force(ch);
                files.forceDirectory(dir);
                return new UpdateLog(file, ch, files, new Tail(id, FILE_HEADER, 0, 0));
            }
            ByteBuffer h = ByteBuffer.allocate(FILE_HEADER);
            read(ch, h, 0);
            h.flip();
            if (h.getLong() != MAGIC) {
                throw new IOException(file + " is not an update log");
            }
            UUID id = new UUID(h.getLong(), h.getLong());
            Tail intact = scan(ch, id);
            if (intact.offset() == ch.size()) {
                return new UpdateLog(file, ch, files, intact);
            }
            String damage = nextIntact(ch, intact.offset() + 1, ch.size()) >= 0
                    ? "intact records follow it"
                    : wholeRecordAt(ch, intact.offset()) ? "it is whole but fails its checksum" : null;
            if (damage == null) {
                log.warn(
                        "update log {}: cut off {} bytes of a record torn by a crash (never acknowledged)",
                        file,
                        ch.size() - intact.offset());
                ch.truncate(intact.offset());
                files.force(ch);
                return new UpdateLog(file, ch, files, intact);
            }
            ch.close();
            Tail rewritten = rewrite(file, files, id, intact.offset(), damage);
            return new UpdateLog(
                    file, FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE), files, rewritten);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static ByteBuffer fileHeader(UUID id) {
        return ByteBuffer.allocate(FILE_HEADER)
                .putLong(MAGIC)
                .putLong(id.getMostSignificantBits())
                .putLong(id.getLeastSignificantBits())
                .flip();
    }

    /** Where the run of intact records from the start of the log ends. */
    private static Tail scan(FileChannel ch, UUID id) throws IOException {
        long offset = FILE_HEADER;
        long seq = 0;
        long bytes = 0;
        long size = ch.size();
        for (Entry e = readEntry(ch, offset, size); e != null; e = readEntry(ch, offset, size)) {
            offset = e.next();
            seq = e.seq();
            bytes = e.cumulativeBytes();
        }
        return new Tail(id, offset, seq, bytes);
    }

    /** What {@link #rewrite} kept of a damaged log. */
    private static final class Rewritten {
        long records;
        long skippedBytes;
        long cumulativeBytes;
        long end;
    }

    /**
     * Damage that is not a torn tail: the log is written anew from every record that still reads,
     * under a new id, and replaces the damaged one, which is kept beside it for the operator. Positions peers
     * hold in the old log may now point anywhere, so the new id sends every peer back to the start; the
     * versions the damaged records named are still on the members, and anti-entropy copies what a peer lacks.
     */
    private static Tail rewrite(Path file, DurableFiles files, UUID oldId, long damagedAt, String damage)
            throws IOException {
        UUID newId = UUID.randomUUID();
        Path kept = file.resolveSibling(file.getFileName() + ".damaged-" + System.currentTimeMillis());
        try {
            Files.createLink(kept, file);
        } catch (UnsupportedOperationException | IOException noHardLinks) {
            Files.copy(file, kept);
        }
        files.forceDirectory(file.toAbsolutePath().getParent());
        Rewritten done = new Rewritten();
        try (FileChannel old = FileChannel.open(kept, StandardOpenOption.READ)) {
            files.replace(file, out -> {
                DurableFiles.writeFully(out, fileHeader(newId), 0);
                long size = old.size();
                long in = FILE_HEADER;
                long at = FILE_HEADER;
                while (in < size) {
                    Entry e = readEntry(old, in, size);
                    if (e == null) {
                        long resume = nextIntact(old, in + 1, size);
                        long next = resume < 0 ? size : resume;
                        done.skippedBytes += next - in;
                        in = next;
                        continue;
                    }
                    done.records++;
                    done.cumulativeBytes += e.op() == Op.PUT ? e.size() : 0;
                    ByteBuffer record = encode(
                            e.op(), done.records, e.vtime(), e.key(), e.size(), e.blobCrc(), done.cumulativeBytes);
                    int length = record.remaining();
                    DurableFiles.writeFully(out, record, at);
                    at += length;
                    in = e.next();
                }
                done.end = at;
            });
        }
        log.error(
                "update log {}: damaged record at offset {} ({}, so not a torn tail); log id {} replaced by {}"
                        + " holding the {} intact records ({} damaged bytes skipped, the damaged file kept as {});"
                        + " peers read the log again from its start",
                file,
                damagedAt,
                damage,
                oldId,
                newId,
                done.records,
                done.skippedBytes,
                kept.getFileName());
        return new Tail(newId, done.end, done.records, done.cumulativeBytes);
    }

    /**
     * Whether the bytes at {@code offset} state a plausible record length and the file holds all of it. A
     * crash tears the last record short (or leaves zeros); a whole record failing its checksum was written
     * out in full, may have been made durable and read by peers, so it is damage and not a tear.
     */
    private static boolean wholeRecordAt(FileChannel ch, long offset) throws IOException {
        if (ch.size() - offset < 8) {
            return false;
        }
        ByteBuffer lead = ByteBuffer.allocate(4);
        read(ch, lead, offset);
        int length = lead.getInt(0);
        return plausibleLength(length) && ch.size() - offset - 8 >= length;
    }

    /** The first offset in {@code [from, size)} where an intact record starts, or -1 when there is none. */
    private static long nextIntact(FileChannel ch, long from, long size) throws IOException {
        int window = 1 << 20;
        ByteBuffer buf = ByteBuffer.allocate(window + MAX_RECORD);
        for (long base = from; base < size; base += window) {
            buf.clear();
            if (size - base < buf.capacity()) {
                buf.limit((int) (size - base));
            }
            read(ch, buf, base);
            buf.flip();
            int candidates = Math.min(window, buf.limit());
            for (int i = 0; i < candidates; i++) {
                if (decode(buf, i, base + i) != null) {
                    return base + i;
                }
            }
        }
        return -1;
    }

    public UUID id() {
        return gen.id();
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
            // A rewrite while running may have come in between: then the record is in the new file, which the
            // rewrite made durable, and forcing the new file again is harmless.
            Tail written = tail;
            files.forceData(gen.ch());
            durable = written;
        }
    }

    private synchronized Entry write(Op op, long vtime, byte[] key, long size, int blobCrc) throws IOException {
        Tail t = tail;
        long seq = t.seq() + 1;
        long cumulative = t.cumulativeBytes() + (op == Op.PUT ? size : 0);
        ByteBuffer record = encode(op, seq, vtime, key, size, blobCrc, cumulative);
        long next = t.offset() + record.remaining();
        DurableFiles.writeFully(gen.ch(), record, t.offset());
        tail = new Tail(t.logId(), next, seq, cumulative);
        return new Entry(op, seq, vtime, key, size, blobCrc, cumulative, next);
    }

    /** One record: {@code length, crc32c} of the body, then the body. */
    private static ByteBuffer encode(Op op, long seq, long vtime, byte[] key, long size, int blobCrc, long cumulative) {
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
        return record.putInt(body.remaining())
                .putInt((int) crc.getValue())
                .put(body)
                .flip();
    }

    /**
     * Whether {@code offset} is a position a read of this log may start at: its start, its durable end, or
     * where an intact record begins. A position past a cut-off last record that the log has grown over since
     * is none of these.
     */
    private static boolean startsRecord(Snapshot s, long offset) throws IOException {
        long end = s.durable().offset();
        return offset == FILE_HEADER
                || offset == end
                || (offset > FILE_HEADER && offset < end && readEntry(s.gen().ch(), offset, end) != null);
    }

    /**
     * Up to {@code max} entries of the current log from {@code offset}, or from its start (see {@link
     * #read(UUID, long, int)}).
     */
    public List<Entry> read(long offset, int max) throws IOException {
        return read(id(), offset, max).entries();
    }

    /**
     * Up to {@code max} entries from {@code offset} in the log {@code logId} (a position a previous read or the
     * tail gave). A position in another log, or that starts no record of this one, reads from the start, and
     * the batch's id says which log it is. A record below the durable end that fails its checksum is damage
     * found while running: the log is rewritten under a new id as at open ({@link #rewrite}), and the read
     * answers from the start of the new log, so a reader is never stuck behind it.
     */
    public Batch read(UUID logId, long offset, int max) throws IOException {
        while (true) {
            Snapshot s = snapshot();
            long from = s.gen().id().equals(logId) && startsRecord(s, offset) ? offset : FILE_HEADER;
            try {
                List<Entry> out = new ArrayList<>();
                long at = from;
                long end = s.durable().offset();
                while (out.size() < max && at < end) {
                    Entry e = readEntry(s.gen().ch(), at, end);
                    if (e == null) {
                        repair(s, at);
                        break;
                    }
                    out.add(e);
                    at = e.next();
                }
                if (gen == s.gen()) {
                    return new Batch(s.durable(), from, out);
                }
            } catch (ClosedChannelException e) {
                if (gen == s.gen()) {
                    throw e;
                }
            }
            // The log was rewritten under this read: the position belongs to the old id, so read the new one.
            logId = null;
        }
    }

    /** The current generation with a durable end of its own (a rewrite replaces both, but not at once). */
    private Snapshot snapshot() {
        Generation g = gen;
        Tail d = durable;
        if (d.logId().equals(g.id())) {
            return new Snapshot(g, d);
        }
        synchronized (syncLock) {
            return new Snapshot(gen, durable);
        }
    }

    /**
     * Rewrites the log around the bad record a read found at {@code at}, unless another read did so first.
     * Appends wait on the log's lock and fsyncs on {@link #syncLock} meanwhile; the rewrite copies the records
     * written but not yet forced too, and makes them durable in the new file, so their writers' wait for the
     * fsync is over as soon as they get the lock.
     */
    private synchronized void repair(Snapshot seen, long at) throws IOException {
        synchronized (syncLock) {
            Generation g = gen;
            if (g != seen.gen() || readEntry(g.ch(), at, durable.offset()) != null) {
                return;
            }
            Tail rewritten = rewrite(file, files, g.id(), at, "found by a read below the durable end while running");
            gen = new Generation(
                    rewritten.logId(), FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE));
            tail = rewritten;
            durable = rewritten;
            g.ch().close();
        }
    }

    /** The entry at {@code offset}, or null when the bytes up to {@code limit} do not hold a whole, intact one. */
    private static Entry readEntry(FileChannel ch, long offset, long limit) throws IOException {
        if (limit - offset < 8) {
            return null;
        }
        ByteBuffer lead = ByteBuffer.allocate(8);
        read(ch, lead, offset);
        int length = lead.getInt(0);
        if (!plausibleLength(length) || limit - offset - 8 < length) {
            return null;
        }
        ByteBuffer record = ByteBuffer.allocate(8 + length).put(lead.flip());
        read(ch, record, offset + 8);
        return decode(record.flip(), 0, offset);
    }

    private static boolean plausibleLength(int length) {
        return length >= RECORD_FIXED - 8 && length <= RECORD_FIXED - 8 + MAX_KEY;
    }

    /**
     * The entry whose record starts at {@code at} in {@code buf} (at {@code offset} in the file), or null when
     * the buffer's bytes from there are not a whole record matching its checksum.
     */
    private static Entry decode(ByteBuffer buf, int at, long offset) {
        if (buf.limit() - at < 8) {
            return null;
        }
        int length = buf.getInt(at);
        if (!plausibleLength(length) || buf.limit() - at - 8 < length) {
            return null;
        }
        ByteBuffer body = buf.slice(at + 8, length);
        CRC32C crc = new CRC32C();
        crc.update(body.duplicate());
        if ((int) crc.getValue() != buf.getInt(at + 4)) {
            return null;
        }
        int op = body.get();
        if (op < 0 || op >= Op.values().length) {
            return null;
        }
        long seq = body.getLong();
        long vtime = body.getLong();
        long size = body.getLong();
        int blobCrc = body.getInt();
        long cumulative = body.getLong();
        int keyLength = Short.toUnsignedInt(body.getShort());
        if (body.remaining() != keyLength) {
            return null;
        }
        byte[] key = new byte[keyLength];
        body.get(key);
        return new Entry(Op.values()[op], seq, vtime, key, size, blobCrc, cumulative, offset + 8 + length);
    }

    public static long start() {
        return FILE_HEADER;
    }

    @Override
    public void close() throws IOException {
        gen.ch().close();
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
