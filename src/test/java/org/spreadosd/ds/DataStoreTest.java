package org.spreadosd.ds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;
import org.spreadosd.util.RecordingSync;

class DataStoreTest {
    @TempDir
    Path root;

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    @Test
    void keysNeverChooseThePath() throws IOException {
        DataStore store = new DataStore(root, 1 << 30);
        byte[] longKey = new byte[1024];
        Arrays.fill(longKey, (byte) '/');
        List<byte[]> keys = List.of(
                Keys.utf8("../../etc/passwd"), new byte[] {0, '/', 0, (byte) 0xff}, longKey, Keys.utf8("a b/c"));
        int i = 0;
        for (byte[] key : keys) {
            byte[] data = bytes(1000 + i, i);
            StoredBlob blob = store.write(
                    new VersionId(0, key, 100 + i), "image/jpeg", new ByteArrayInputStream(data), data.length);
            assertTrue(
                    blob.path().normalize().startsWith(root.resolve("data")), "stays inside the store: " + blob.path());
            assertTrue(blob.path().getFileName().toString().matches("[0-9a-f]{64}"), "named by hash: " + blob.path());
            StoredBlob found = store.find(new VersionId(0, key, 100 + i)).orElseThrow();
            assertArrayEquals(key, found.header().key());
            assertEquals("image/jpeg", found.header().contentType());
            assertArrayEquals(data, readAll(store.open(found, 0, found.size())));
            i++;
        }
        assertFalse(Files.exists(root.resolve("etc")));
        try (Stream<Path> files = Files.walk(root.resolve("data"))) {
            assertEquals(keys.size(), files.filter(Files::isRegularFile).count());
        }
    }

    @Test
    void rangesReadSlices() throws IOException {
        DataStore store = new DataStore(root, 1 << 30);
        byte[] data = bytes(300_000, 7);
        StoredBlob blob = store.write(new VersionId(1, Keys.utf8("k"), 5), null, new ByteArrayInputStream(data), -1);
        byte[] slice = readAll(store.open(blob, 1000, 70_000));
        assertArrayEquals(Arrays.copyOfRange(data, 1000, 71_000), slice);
    }

    @Test
    void corruptionIsDetectedOnAWholeRead() throws IOException {
        DataStore store = new DataStore(root, 1 << 30);
        byte[] data = bytes(100_000, 3);
        StoredBlob blob =
                store.write(new VersionId(0, Keys.utf8("c"), 9), null, new ByteArrayInputStream(data), data.length);
        try (FileChannel ch = FileChannel.open(blob.path(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) (data[50_000] ^ 0x55)}), blob.dataOffset() + 50_000);
        }
        StoredBlob found = store.find(new VersionId(0, Keys.utf8("c"), 9)).orElseThrow();
        assertEquals(
                FailureCode.CORRUPT,
                assertThrows(SpreadFailure.class, () -> readAll(store.open(found, 0, found.size())))
                        .code());
    }

    @Test
    void aTornHeaderOrTruncatedFileIsCorrupt() throws IOException {
        DataStore store = new DataStore(root, 1 << 30);
        StoredBlob blob =
                store.write(new VersionId(0, Keys.utf8("t"), 1), null, new ByteArrayInputStream(bytes(5000, 1)), 5000);
        try (FileChannel ch = FileChannel.open(blob.path(), StandardOpenOption.WRITE)) {
            ch.truncate(blob.dataOffset() + 100);
        }
        assertEquals(
                FailureCode.CORRUPT,
                assertThrows(SpreadFailure.class, () -> store.find(new VersionId(0, Keys.utf8("t"), 1)))
                        .code());
        try (FileChannel ch = FileChannel.open(blob.path(), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'X'}), 12);
        }
        assertEquals(
                FailureCode.CORRUPT,
                assertThrows(SpreadFailure.class, () -> store.find(new VersionId(0, Keys.utf8("t"), 1)))
                        .code());
    }

    @Test
    void versionsAreImmutable() throws IOException {
        DataStore store = new DataStore(root, 1 << 30);
        store.write(new VersionId(0, Keys.utf8("i"), 1), null, new ByteArrayInputStream(new byte[] {1}), 1);
        assertEquals(
                FailureCode.ALREADY_STORED,
                assertThrows(
                                SpreadFailure.class,
                                () -> store.write(
                                        new VersionId(0, Keys.utf8("i"), 1),
                                        null,
                                        new ByteArrayInputStream(new byte[] {2}),
                                        1))
                        .code());
        assertArrayEquals(
                new byte[] {1},
                readAll(store.open(
                        store.find(new VersionId(0, Keys.utf8("i"), 1)).orElseThrow(), 0, 1)));
    }

    @Test
    void failedWritesLeaveNothing() throws IOException {
        DataStore store = new DataStore(root, 10_000);
        assertThrows(
                IOException.class,
                () -> store.write(
                        new VersionId(0, Keys.utf8("short"), 1), null, new ByteArrayInputStream(new byte[100]), 200));
        assertEquals(
                FailureCode.TOO_LARGE,
                assertThrows(
                                SpreadFailure.class,
                                () -> store.write(
                                        new VersionId(0, Keys.utf8("big"), 1),
                                        null,
                                        new ByteArrayInputStream(new byte[20_000]),
                                        -1))
                        .code());
        assertEquals(
                FailureCode.TOO_LARGE,
                assertThrows(
                                SpreadFailure.class,
                                () -> store.write(
                                        new VersionId(0, Keys.utf8("big"), 2),
                                        null,
                                        new ByteArrayInputStream(new byte[0]),
                                        20_000))
                        .code());
        InputStream dying = new InputStream() {
            int left = 5000;

            @Override
            public int read() throws IOException {
                // once dead it stays dead: InputStream.read(byte[]) swallows a failure after the first byte
                if (left-- <= 0) {
                    throw new IOException("peer died mid-transfer");
                }
                return 1;
            }
        };
        assertThrows(IOException.class, () -> store.write(new VersionId(0, Keys.utf8("dying"), 1), null, dying, -1));
        assertTrue(store.find(new VersionId(0, Keys.utf8("short"), 1)).isEmpty());
        assertTrue(store.find(new VersionId(0, Keys.utf8("big"), 1)).isEmpty());
        assertTrue(store.find(new VersionId(0, Keys.utf8("dying"), 1)).isEmpty());
        try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
            assertEquals(0, tmp.count(), "no partial file left");
        }
    }

    @Test
    void partialWritesOfAPreviousRunAreClearedAtStart() throws IOException {
        new DataStore(root, 1 << 20);
        Files.writeString(root.resolve("tmp").resolve("crashed.part"), "half");
        new DataStore(root, 1 << 20);
        try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
            assertEquals(0, tmp.count());
        }
    }

    @Test
    void deleteRemovesTheFile() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        StoredBlob blob =
                store.write(new VersionId(2, Keys.utf8("d"), 4), null, new ByteArrayInputStream(new byte[10]), 10);
        assertTrue(store.delete(new VersionId(2, Keys.utf8("d"), 4)));
        assertFalse(Files.exists(blob.path()));
        assertFalse(store.delete(new VersionId(2, Keys.utf8("d"), 4)));
        assertTrue(store.find(new VersionId(2, Keys.utf8("d"), 4)).isEmpty());
    }

    @Test
    void everyDirectoryAStoreCreatesIsForcedWithItsParent() throws IOException {
        RecordingSync sync = new RecordingSync();
        Path fresh = root.resolve("fresh-store");
        DataStore store = new DataStore(fresh, 1 << 20, null, sync.files());
        byte[] data = bytes(100, 1);
        store.write(new VersionId(0, Keys.utf8("k"), 10), null, new ByteArrayInputStream(data), data.length);
        store.delete(new VersionId(0, Keys.utf8("never stored"), 11));
        store.quarantine(new VersionId(0, Keys.utf8("k"), 10));

        List<Path> forced = sync.forcedDirectories();
        List<Path> created;
        try (Stream<Path> walk = Files.walk(fresh)) {
            created = walk.filter(Files::isDirectory)
                    .map(p -> p.toAbsolutePath().normalize())
                    .toList();
        }
        assertTrue(created.size() >= 9, "store, data, tmp, ulog, quarantine, the set and two levels each: " + created);
        for (Path dir : created) {
            assertTrue(forced.contains(dir), "forced " + dir + ": " + forced);
            assertTrue(forced.contains(dir.getParent()), "forced the parent of " + dir + ": " + forced);
        }
    }
}
