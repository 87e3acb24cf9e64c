package org.spreadosd.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The file operations durability rests on, in one place: whole writes, forcing files and directories,
 * creating directories, renaming into place, atomic replacement.
 *
 * <p>The rule: a file's bytes are forced before it is renamed into place, and a directory is forced after
 * every entry made in it (a file renamed in, a file deleted, a directory created), so that what a crash
 * finds is always a state some caller was told of. Every force goes through one {@link Sync}, so what is
 * forced, and in which order, can be observed (by a test, by accounting) without changing any caller.
 */
public final class DurableFiles {
    /** Makes written data durable: a file's bytes, or a directory's entries. */
    public interface Sync {
        /** Forces the file's bytes, and its size and times too when {@code withMetadata}. */
        void file(FileChannel ch, boolean withMetadata) throws IOException;

        /** Forces a directory's entries: the names created, renamed or deleted in it. */
        void directory(Path dir) throws IOException;
    }

    /** The disk itself: fsync(2) of the file, and of the directory opened for reading. */
    public static final Sync DISK_SYNC = new Sync() {
        @Override
        public void file(FileChannel ch, boolean withMetadata) throws IOException {
            ch.force(withMetadata);
        }

        @Override
        public void directory(Path dir) throws IOException {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }
    };

    /** Durable files on the disk: what every store uses unless it is given another {@link Sync}. */
    public static final DurableFiles DISK = new DurableFiles(DISK_SYNC);

    /** What a replacement's content is written by; it writes the whole content into {@code ch}. */
    public interface Content {
        void writeTo(FileChannel ch) throws IOException;
    }

    private final Sync sync;

    public DurableFiles(Sync sync) {
        this.sync = sync;
    }

    /** Writes all of {@code b} at {@code position} (a positional write may write less than asked). */
    public static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
    }

    /** Forces a file's bytes and metadata. */
    public void force(FileChannel ch) throws IOException {
        sync.file(ch, true);
    }

    /** Forces a file's bytes only: for a file whose size change an earlier force already covered, or that is appended to. */
    public void forceData(FileChannel ch) throws IOException {
        sync.file(ch, false);
    }

    /** Makes a directory's entries (a file created, renamed or deleted in it) durable. */
    public void forceDirectory(Path dir) throws IOException {
        sync.directory(dir);
    }

    /**
     * Creates a directory and every missing parent, durably: each level created is forced (its own entries)
     * and so is its parent (whose entry names it). A level another thread creates at the same moment is forced
     * here too. Costs nothing when the directory exists.
     */
    public void createDirectories(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            return;
        }
        Deque<Path> missing = new ArrayDeque<>();
        for (Path p = absolute; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.push(p);
        }
        for (Path level : missing) {
            try {
                Files.createDirectory(level);
            } catch (FileAlreadyExistsException raced) {
                if (!Files.isDirectory(level)) {
                    throw raced;
                }
            }
            forceDirectory(level);
            forceDirectory(level.getParent());
        }
    }

    /** Renames a forced file into place atomically and forces the directory that now names it. */
    public void moveIntoPlace(Path forcedTmp, Path target) throws IOException {
        Files.move(forcedTmp, target, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory(target.getParent());
    }

    /** Replaces a small file so that a crash leaves the old content or the new, never a mix. */
    public void replace(Path file, byte[] content) throws IOException {
        replace(file, ch -> writeFully(ch, ByteBuffer.wrap(content), 0));
    }

    /**
     * Replaces a file so that a crash leaves the old content or the new, never a mix: the content goes to a
     * temp file beside it, which is forced, renamed over the file, and the directory forced, so the
     * replacement itself survives a crash once this returns.
     */
    public void replace(Path file, Content content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(
                    tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                content.writeTo(ch);
                force(ch);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            forceDirectory(file.toAbsolutePath().getParent());
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
