package org.spreadosd.util;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * Free space kept on one disk ({@code spreadosd.ds.free-space-reserve}): new versions are refused (507) while less
 * than the reserve is free, so that what a delete writes still fits. The data store's disk and an embedded metadata
 * store's disk each have one, and both say the same when they refuse.
 */
public final class DiskReserve {
    public static final String SETTING = "spreadosd.ds.free-space-reserve";

    private final String name;
    private final Path dir;
    private final long reserve;
    private volatile FileStore store;

    /**
     * @param name the disk as messages name it, e.g. "store disk"
     * @param reserve adds are refused while less than this is free; 0 never refuses
     */
    public DiskReserve(String name, Path dir, long reserve) {
        this.name = name;
        this.dir = dir;
        this.reserve = reserve;
    }

    /** The usable bytes; the file store is found at first use, once the directory exists. */
    public long free() throws IOException {
        FileStore s = store;
        if (s == null) {
            s = Files.getFileStore(dir);
            store = s;
        }
        return s.getUsableSpace();
    }

    public long reserve() {
        return reserve;
    }

    public boolean isLow(long free) {
        return free < reserve;
    }

    /** @throws SpreadFailure {@link FailureCode#STORE_FULL} while less than the reserve is free */
    public void refuseAddsWhenLow() throws IOException {
        long free = free();
        if (isLow(free)) {
            throw new SpreadFailure(FailureCode.STORE_FULL, lowSpace(free) + "; adds are refused until space is freed");
        }
    }

    /** What is wrong when {@code free} is under the reserve, naming the disk and the setting. */
    public String lowSpace(long free) {
        return name + " " + dir + " has " + mib(free) + " free, under its reserve of " + mib(reserve) + " (" + SETTING
                + ")";
    }

    public static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
