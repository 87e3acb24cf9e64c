package org.spreadosd.ds.replication;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.ds.BlobHeader;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.StoredBlob;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * The checksum scrub: reads every version this DS holds, at a bounded rate so it never competes with
 * clients, and checks it against its checksum. A damaged version is moved aside and copied again from a
 * peer; a file too damaged to name its version is moved aside and anti-entropy brings the version back.
 */
public final class Scrubber implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scrubber.class);

    private final DataStore store;
    private final Repairer repairer;
    private final ReplicationStatus status;
    private final long bytesPerSecond;
    private final BiPredicate<byte[], Long> referenced;
    private final Duration garbageGrace;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spread-scrub");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param referenced whether the metadata store names a version (null: no garbage check on this node)
     * @param garbageGrace how old unreferenced bytes must be before they count as garbage; younger ones may
     *     belong to an add still under way
     */
    public Scrubber(
            DataStore store,
            Repairer repairer,
            ReplicationStatus status,
            long bytesPerSecond,
            BiPredicate<byte[], Long> referenced,
            Duration garbageGrace) {
        this.referenced = referenced;
        this.garbageGrace = garbageGrace;
        this.store = store;
        this.repairer = repairer;
        this.status = status;
        this.bytesPerSecond = bytesPerSecond;
    }

    public void start(Duration interval) {
        thread.scheduleWithFixedDelay(
                this::passSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void passSafely() {
        try {
            pass();
        } catch (IOException | RuntimeException e) {
            log.warn("scrub pass stopped: {}", e.toString());
        }
    }

    /** One pass over the whole store; answers the number of damaged versions found. */
    public long pass() throws IOException {
        long started = System.nanoTime();
        long checked = 0;
        long bytes = 0;
        long damagedBefore = status.scrubDamaged.get();
        List<StoredBlob> unreferenced = new ArrayList<>();
        boolean askMetadata = referenced != null;
        long oldEnough = System.currentTimeMillis() - garbageGrace.toMillis();
        for (int rsid : store.storedRsids()) {
            try (Stream<Path> files = store.versionFiles(rsid)) {
                Iterator<Path> it = files.iterator();
                while (it.hasNext()) {
                    Path file = it.next();
                    StoredBlob intact = check(rsid, file);
                    checked++;
                    status.scrubChecked.incrementAndGet();
                    if (intact == null) {
                        continue;
                    }
                    bytes += intact.size();
                    if (askMetadata && intact.header().storedAtMillis() < oldEnough) {
                        try {
                            if (!referenced.test(
                                    intact.header().key(), intact.header().vtime())) {
                                unreferenced.add(intact);
                            }
                        } catch (RuntimeException metadataDown) {
                            log.warn(
                                    "scrub: no garbage check this pass, the metadata store does not answer: {}",
                                    metadataDown.getMessage());
                            askMetadata = false;
                        }
                    }
                    throttle(started, bytes);
                }
            }
        }
        int removed = removeGarbage(unreferenced, checked);
        long damaged = status.scrubDamaged.get() - damagedBefore;
        status.scrubPasses.incrementAndGet();
        log.info(
                "scrub pass: {} versions ({} bytes) checked, {} damaged, {} unreferenced removed, in {} ms",
                checked,
                bytes,
                damaged,
                removed,
                (System.nanoTime() - started) / 1_000_000);
        return damaged;
    }

    /**
     * Deletes versions no metadata row names (adds that failed half-way), as replicated deletes. Garbage is
     * rare; when much of the store looks unreferenced the metadata store is more likely the wrong one (an
     * empty database after {@code set_mds}), so nothing is deleted and the operator is told.
     */
    private int removeGarbage(List<StoredBlob> unreferenced, long checked) throws IOException {
        if (unreferenced.isEmpty()) {
            return 0;
        }
        if (unreferenced.size() * 10L > checked) {
            log.error(
                    "scrub: {} of {} versions here are unknown to the metadata store; not deleting any: is the metadata store"
                            + " the right one?",
                    unreferenced.size(),
                    checked);
            return 0;
        }
        for (StoredBlob b : unreferenced) {
            BlobHeader h = b.header();
            store.delete(h.version());
            status.garbageRemoved.incrementAndGet();
            log.info(
                    "garbage: removed rsid={} key={} vtime={} size={}: no metadata names it (an add that failed half-way)",
                    h.rsid(),
                    Keys.printable(h.key()),
                    h.vtime(),
                    h.size());
        }
        return unreferenced.size();
    }

    /** The version when it is intact, null when it was damaged (and repair was attempted) or is gone. */
    private StoredBlob check(int rsid, Path file) throws IOException {
        StoredBlob blob;
        try {
            blob = store.readStored(file);
        } catch (NoSuchFileException deletedMeanwhile) {
            return null;
        } catch (SpreadFailure e) {
            if (e.code() != FailureCode.CORRUPT) {
                throw e;
            }
            status.scrubDamaged.incrementAndGet();
            log.error(
                    "scrub: {} in rsid={} is damaged ({}); moved aside, anti-entropy copies the version back",
                    file.getFileName(),
                    rsid,
                    e.getMessage());
            store.quarantine(file);
            return null;
        }
        try {
            store.verify(blob);
            return blob;
        } catch (NoSuchFileException deletedMeanwhile) {
            return null;
        } catch (SpreadFailure e) {
            if (e.code() != FailureCode.CORRUPT) {
                throw e;
            }
            status.scrubDamaged.incrementAndGet();
            VersionId v = blob.header().version();
            log.error("scrub: damaged version {}: {}; repairing from a peer", v, e.getMessage());
            repairer.repair(v).toCompletableFuture().join();
            return null;
        }
    }

    /** Keeps the pass under {@code bytesPerSecond} by pausing the scrub's own thread. */
    private void throttle(long startedNanos, long bytes) {
        long due = startedNanos + bytes * 1_000_000_000L / bytesPerSecond;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
