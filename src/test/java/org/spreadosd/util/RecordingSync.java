package org.spreadosd.util;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/** Forces on the disk like production does, and remembers every directory it forced, in order. */
public final class RecordingSync implements DurableFiles.Sync {
    private final List<Path> directories = Collections.synchronizedList(new ArrayList<>());
    private volatile Consumer<Path> beforeDirectoryForce = dir -> {};

    @Override
    public void file(FileChannel ch, boolean withMetadata) throws IOException {
        DurableFiles.DISK_SYNC.file(ch, withMetadata);
    }

    @Override
    public void directory(Path dir) throws IOException {
        beforeDirectoryForce.accept(dir);
        directories.add(dir.toAbsolutePath().normalize());
        DurableFiles.DISK_SYNC.directory(dir);
    }

    /** Runs {@code check} on each directory about to be forced, to look at what the force makes durable. */
    public void beforeDirectoryForce(Consumer<Path> check) {
        this.beforeDirectoryForce = check;
    }

    public List<Path> forcedDirectories() {
        synchronized (directories) {
            return List.copyOf(directories);
        }
    }

    public DurableFiles files() {
        return new DurableFiles(this);
    }
}
