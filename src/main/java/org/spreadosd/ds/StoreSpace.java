package org.spreadosd.ds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.util.DiskReserve;
import org.spreadosd.util.DurableFiles;

/**
 * The free space of a data server's store disk, which also holds its update logs and, standalone, the embedded
 * metadata store. New versions are refused (507) while less than the reserve is free, so this node's own adds
 * never fill the disk and what a delete writes (the metadata store's commit, a tombstone, a log record) still fits.
 *
 * <p>The disk can fill all the same: from outside, or by uploads that began while there was room. For that the
 * node holds back a file of spare space in its store ({@value #HELD_BACK_FILE}) and gives it up when less than
 * half the reserve is left, so that deletes, which free space, can always be written; it takes the space back once
 * the disk has the reserve and the held-back space free again.
 */
public final class StoreSpace {
    private static final Logger log = LoggerFactory.getLogger(StoreSpace.class);
    static final String HELD_BACK_FILE = "held-back-space";

    private final Path root;
    private final DiskReserve disk;
    private final long heldBack;
    private final Path heldBackFile;
    /** Whether the last look found less than the reserve free: logged once when it changes. Guarded by this. */
    private boolean low;

    /**
     * @param reserve adds are refused while less than this is free; 0 never refuses
     * @param heldBack the spare space held back for deletes on a full disk; 0 holds none
     */
    public StoreSpace(Path root, long reserve, long heldBack) throws IOException {
        this.root = root;
        this.disk = new DiskReserve("store disk", root, reserve);
        disk.free();
        this.heldBack = heldBack;
        this.heldBackFile = root.resolve(HELD_BACK_FILE);
    }

    /** A store whose adds are never refused for space and which holds nothing back (tests of other things). */
    public static StoreSpace unlimited(Path root) throws IOException {
        return new StoreSpace(root, 0, 0);
    }

    public long free() throws IOException {
        return disk.free();
    }

    /** As {@link DiskReserve#refuseAddsWhenLow}: 507 while less than the reserve is free. */
    public void refuseAddsWhenLow() throws IOException {
        disk.refuseAddsWhenLow();
    }

    /** What readiness reports: why this node should get no adds now, or empty. */
    public Optional<String> problem() {
        try {
            long free = free();
            return disk.isLow(free) ? Optional.of(disk.lowSpace(free)) : Optional.empty();
        } catch (IOException e) {
            return Optional.of("cannot read the free space of the store disk " + root + ": " + e.getMessage());
        }
    }

    /**
     * Looks at the disk (every {@code spreadosd.ds.free-space-check-interval}, on the disk dispatcher): gives up the
     * held-back space when the disk is nearly full, takes it back when there is room again, and logs one line when
     * the disk falls under its reserve or climbs back over it.
     */
    public synchronized void check() {
        try {
            long free = free();
            boolean heldNow = Files.exists(heldBackFile);
            if (heldNow && free < disk.reserve() / 2) {
                Files.delete(heldBackFile);
                log.warn(
                        "store disk {} nearly full ({} free): gave up the {} held back so that deletes can be written",
                        root,
                        DiskReserve.mib(free),
                        DiskReserve.mib(heldBack));
                free = free();
            } else if (!heldNow && heldBack > 0 && free >= disk.reserve() + heldBack) {
                hold();
                free = free();
            }
            if (disk.isLow(free) && !low) {
                log.warn("{}: adds are refused (507) and /ready answers 503 until space is freed", disk.lowSpace(free));
            } else if (!disk.isLow(free) && low) {
                log.info(
                        "store disk {} has {} free again, over its reserve of {}: adds accepted",
                        root,
                        DiskReserve.mib(free),
                        DiskReserve.mib(disk.reserve()));
            }
            low = disk.isLow(free);
        } catch (IOException e) {
            log.warn("cannot check the free space of the store disk {}: {}", root, e.getMessage());
        }
    }

    /** Writes the held-back file out whole (a sparse file would hold nothing) and durably, or leaves none. */
    private void hold() throws IOException {
        Path tmp = root.resolve(HELD_BACK_FILE + ".part");
        try {
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ByteBuffer zeros = ByteBuffer.allocate(64 * 1024);
                for (long at = 0; at < heldBack; at += zeros.capacity()) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), heldBack - at));
                    DurableFiles.writeFully(ch, zeros, at);
                }
                ch.force(true);
            }
            Files.move(tmp, heldBackFile);
            log.info("store disk {}: holding back {} for deletes on a full disk", root, DiskReserve.mib(heldBack));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
