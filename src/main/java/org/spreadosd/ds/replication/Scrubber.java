package org.spreadosd.ds.replication;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.spreadosd.ds.CorruptBlobException;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.StoredBlob;
import org.spreadosd.model.Keys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spread-scrub");
        t.setDaemon(true);
        return t;
    });

    public Scrubber(DataStore store, Repairer repairer, ReplicationStatus status, long bytesPerSecond) {
        this.store = store;
        this.repairer = repairer;
        this.status = status;
        this.bytesPerSecond = bytesPerSecond;
    }

    public void start(Duration interval) {
        thread.scheduleWithFixedDelay(this::passSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void passSafely() {
        try {
            pass();
        } catch (IOException | RuntimeException e) {
            log.warn("scrub pass stopped: {}", e.toString());
        }
    }

    /** One pass over the whole store; answers the number of damaged versions found. */
    public int pass() throws IOException {
        long started = System.nanoTime();
        long checked = 0;
        long bytes = 0;
        int damaged = 0;
        for (int rsid : store.storedRsids()) {
            try (Stream<Path> files = store.versionFiles(rsid)) {
                Iterator<Path> it = files.iterator();
                while (it.hasNext()) {
                    Path file = it.next();
                    long size = check(rsid, file);
                    if (size < 0) {
                        damaged++;
                    } else {
                        bytes += size;
                    }
                    checked++;
                    status.scrubChecked.incrementAndGet();
                    throttle(started, bytes);
                }
            }
        }
        status.scrubPasses.incrementAndGet();
        log.info("scrub pass: {} versions ({} bytes) checked, {} damaged, in {} ms", checked, bytes, damaged,
                (System.nanoTime() - started) / 1_000_000);
        return damaged;
    }

    /** The version's size when it is intact, -1 when it was damaged (and repair was attempted). */
    private long check(int rsid, Path file) throws IOException {
        StoredBlob blob;
        try {
            blob = store.readStored(file);
        } catch (NoSuchFileException deletedMeanwhile) {
            return 0;
        } catch (CorruptBlobException e) {
            status.scrubDamaged.incrementAndGet();
            log.error("scrub: {} in rsid={} is damaged ({}); moved aside, anti-entropy copies the version back", file.getFileName(), rsid,
                    e.getMessage());
            store.quarantine(file);
            return -1;
        }
        try {
            store.verify(blob);
            return blob.size();
        } catch (NoSuchFileException deletedMeanwhile) {
            return 0;
        } catch (CorruptBlobException e) {
            status.scrubDamaged.incrementAndGet();
            byte[] key = blob.header().key();
            long vtime = blob.header().vtime();
            log.error("scrub: damaged version rsid={} key={} vtime={}: {}; repairing from a peer", rsid, Keys.printable(key), vtime,
                    e.getMessage());
            repairer.repair(rsid, key, vtime).toCompletableFuture().join();
            return -1;
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
