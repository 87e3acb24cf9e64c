package org.spreadosd.ds.replication;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.UpdateLog;
import org.spreadosd.ds.replication.ReplicaProtocol.Digests;
import org.spreadosd.ds.replication.ReplicaProtocol.InventoryPage;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.LogRecord;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * One peer of a set held in memory behind {@link ReplicaPeers}, for one replication-set: its versions and
 * tombstones by the file names a real store gives them, its update log as a list under a log id. It answers
 * as a DS's replica API does (a position in another log reads from the start; an inventory page names where the
 * log ended before the page was read), and a copy writes into this member's real store, as {@link ReplicaClient}
 * does, leaving the store to refuse what it holds or deleted. No HTTP, no process. Every answer comes from
 * {@code executor}, as a network answer would.
 */
final class InMemoryPeer implements ReplicaPeers {
    /** A version the peer holds, or its tombstone ({@code bytes} null). */
    private record Held(byte[] key, long vtime, byte[] bytes) {}

    private final int rsid;
    private final DataStore here;
    private final Executor executor;
    private final TreeMap<String, Held> held = new TreeMap<>();
    private List<LogRecord> log = new ArrayList<>();
    private String logId = UUID.randomUUID().toString();
    private Runnable afterNextInventoryPage;

    /** The position of every log read, as asked. */
    final List<Position> logReads = new CopyOnWriteArrayList<>();
    /** The log tail every inventory page announced. */
    final List<Position> inventoryTails = new CopyOnWriteArrayList<>();
    /** Every version a copy was asked for, as {@code key@vtime}. */
    final List<String> copyRequests = new CopyOnWriteArrayList<>();

    InMemoryPeer(int rsid, DataStore here, Executor executor) {
        this.rsid = rsid;
        this.here = here;
        this.executor = executor;
    }

    // ---- what happens on the peer ----

    /** A version added on the peer: held and logged. */
    synchronized void put(String key, long vtime) {
        byte[] bytes = bytesOf(key, vtime);
        held.put(name(Keys.utf8(key), vtime), new Held(Keys.utf8(key), vtime, bytes));
        append(UpdateLog.Op.PUT, Keys.utf8(key), vtime, bytes);
    }

    /** A version deleted on the peer: its tombstone held and the delete logged. */
    synchronized void delete(String key, long vtime) {
        held.put(name(Keys.utf8(key), vtime), new Held(Keys.utf8(key), vtime, null));
        append(UpdateLog.Op.DELETE, Keys.utf8(key), vtime, null);
    }

    /** A version the peer holds with no record in its log (its record was lost with a damaged log). */
    synchronized void holdUnlogged(String key, long vtime) {
        held.put(name(Keys.utf8(key), vtime), new Held(Keys.utf8(key), vtime, bytesOf(key, vtime)));
    }

    /** A tombstone the peer holds with no record in its log. */
    synchronized void deleteUnlogged(String key, long vtime) {
        held.put(name(Keys.utf8(key), vtime), new Held(Keys.utf8(key), vtime, null));
    }

    /**
     * The peer's log written anew under a new id (what a member does when it finds a damaged record in the
     * middle of its log): the records that survive, renumbered from the start.
     */
    synchronized void rewriteLog(List<String> survivingKeys) {
        List<LogRecord> old = log;
        log = new ArrayList<>();
        logId = UUID.randomUUID().toString();
        for (LogRecord r : old) {
            if (survivingKeys.contains(Keys.printable(r.key()))) {
                Held h = held.get(name(r.key(), r.vtime()));
                append(UpdateLog.Op.valueOf(r.op()), r.key(), r.vtime(), r.isDelete() ? null : h.bytes());
            }
        }
    }

    /** Runs {@code action} once, right after the next inventory page is read and before it is answered. */
    synchronized void afterNextInventoryPage(Runnable action) {
        afterNextInventoryPage = action;
    }

    synchronized Position tail() {
        if (log.isEmpty()) {
            return new Position(logId, UpdateLog.start(), 0, 0);
        }
        LogRecord last = log.get(log.size() - 1);
        return new Position(logId, last.next(), last.seq(), last.cumulativeBytes());
    }

    /** The digest per bucket a real store holding the same versions and tombstones gives. */
    synchronized Map<String, String> digestsNow() {
        Map<String, Inventory.BucketDigest> perBucket = new TreeMap<>();
        held.forEach((name, h) -> perBucket
                .computeIfAbsent(name.substring(0, 2), b -> new Inventory.BucketDigest())
                .add(name, h.bytes() == null));
        Map<String, String> out = new TreeMap<>();
        perBucket.forEach((bucket, digest) -> out.put(bucket, digest.hex()));
        return out;
    }

    // ---- ReplicaPeers ----

    @Override
    public CompletionStage<LogBatch> log(String dataUrl, int rsid, Position from, int max) {
        return answer(() -> {
            logReads.add(from);
            long begin = from != null && from.logId().equals(logId) ? from.offset() : UpdateLog.start();
            List<LogRecord> entries =
                    log.stream().filter(r -> r.next() > begin).limit(max).toList();
            return new LogBatch(begin, entries, tail());
        });
    }

    @Override
    public CompletionStage<InventoryPage> inventory(String dataUrl, int rsid, String after, int max) {
        return answer(() -> {
            Position tail = tail();
            inventoryTails.add(tail);
            List<Inventory.Item> items = (after == null ? held : held.tailMap(after, false))
                    .entrySet().stream()
                            .limit(max)
                            .map(e -> item(e.getKey(), e.getValue()))
                            .toList();
            if (afterNextInventoryPage != null) {
                Runnable action = afterNextInventoryPage;
                afterNextInventoryPage = null;
                action.run();
            }
            return new InventoryPage(items, tail);
        });
    }

    @Override
    public CompletionStage<Digests> digests(String dataUrl, int rsid) {
        return answer(() -> new Digests(digestsNow()));
    }

    @Override
    public CompletionStage<InventoryPage> bucket(String dataUrl, int rsid, String bucket) {
        return answer(() -> new InventoryPage(
                held.entrySet().stream()
                        .filter(e -> e.getKey().startsWith(bucket))
                        .map(e -> item(e.getKey(), e.getValue()))
                        .toList(),
                tail()));
    }

    @Override
    public CompletionStage<ReplicaPeers.Copied> copy(String dataUrl, VersionId v) {
        byte[] key = v.key();
        long vtime = v.vtime();
        return CompletableFuture.supplyAsync(
                () -> {
                    copyRequests.add(Keys.printable(key) + "@" + vtime);
                    Held h;
                    synchronized (this) {
                        h = held.get(name(key, vtime));
                    }
                    if (h == null || h.bytes() == null) {
                        return ReplicaPeers.Copied.NOT_ON_PEER;
                    }
                    try {
                        here.write(v, null, new ByteArrayInputStream(h.bytes()), h.bytes().length, crcOf(h.bytes()));
                        return ReplicaPeers.Copied.COPIED;
                    } catch (SpreadFailure refused) {
                        // The store refuses a version it holds or deleted; anything else is a failure of the copy.
                        return switch (refused.code()) {
                            case DELETED -> ReplicaPeers.Copied.DELETED_HERE;
                            case ALREADY_STORED ->
                                here.isDeleted(v) ? ReplicaPeers.Copied.DELETED_HERE : ReplicaPeers.Copied.ALREADY_HERE;
                            default -> throw refused;
                        };
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                executor);
    }

    // ---- helpers ----

    private <T> CompletionStage<T> answer(Supplier<T> read) {
        return CompletableFuture.supplyAsync(
                () -> {
                    synchronized (this) {
                        return read.get();
                    }
                },
                executor);
    }

    private void append(UpdateLog.Op op, byte[] key, long vtime, byte[] bytes) {
        Position tail = tail();
        long size = bytes == null ? 0 : bytes.length;
        log.add(new LogRecord(
                op.name(),
                tail.seq() + 1,
                vtime,
                key,
                size,
                bytes == null ? 0 : crcOf(bytes),
                tail.bytes() + size,
                tail.offset() + 1));
    }

    private Inventory.Item item(String name, Held h) {
        boolean deleted = h.bytes() == null;
        return new Inventory.Item(
                name, h.key(), h.vtime(), deleted ? 0 : h.bytes().length, deleted ? 0 : crcOf(h.bytes()), deleted);
    }

    private String name(byte[] key, long vtime) {
        return DataStore.pathOf(Path.of(""), new VersionId(rsid, key, vtime))
                .getFileName()
                .toString();
    }

    static byte[] bytesOf(String key, long vtime) {
        return ("bytes of " + key + "@" + vtime).getBytes(StandardCharsets.UTF_8);
    }

    private static int crcOf(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
