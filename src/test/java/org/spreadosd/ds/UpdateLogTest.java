package org.spreadosd.ds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.model.Keys;

/** The update log, tombstones and inventories that replication between members is built on. */
class UpdateLogTest {
    @TempDir
    Path root;

    private static StoredBlob put(DataStore store, String key, long vtime, String data) throws IOException {
        byte[] b = Keys.utf8(data);
        return store.write(0, Keys.utf8(key), vtime, null, new ByteArrayInputStream(b), b.length);
    }

    @Test
    void everyStoreAndDeleteIsLoggedInOrderAndSurvivesReopening() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "a", 10, "hello");
        put(store, "b", 11, "world!");
        assertTrue(store.delete(0, Keys.utf8("a"), 10));
        UpdateLog.Tail tail = store.updateLog(0).tail();
        assertEquals(3, tail.seq());
        assertEquals(11, tail.cumulativeBytes());

        DataStore reopened = new DataStore(root, 1 << 20);
        List<UpdateLog.Entry> entries = reopened.updateLog(0).read(UpdateLog.start(), 10);
        assertEquals(
                List.of(UpdateLog.Op.PUT, UpdateLog.Op.PUT, UpdateLog.Op.DELETE),
                entries.stream().map(UpdateLog.Entry::op).toList());
        assertArrayEquals(Keys.utf8("b"), entries.get(1).key());
        assertEquals(11, entries.get(1).vtime());
        assertEquals(6, entries.get(1).size());
        assertEquals(tail, reopened.updateLog(0).tail());
        assertEquals(
                entries.get(1).next(),
                reopened.updateLog(0).read(entries.get(0).next(), 1).get(0).next());
    }

    @Test
    void concurrentAppendsShareFsyncsAndLoseNothing() throws Exception {
        DataStore store = new DataStore(root, 1 << 20);
        UpdateLog ulog = store.updateLog(0);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        List<java.util.concurrent.Future<UpdateLog.Entry>> appended = new java.util.ArrayList<>();
        for (int i = 0; i < 800; i++) {
            long vtime = i;
            appended.add(pool.submit(() -> ulog.append(UpdateLog.Op.PUT, vtime, Keys.utf8("k" + vtime), 10, 0)));
        }
        for (var f : appended) {
            UpdateLog.Entry e = f.get();
            assertTrue(ulog.tail().offset() >= e.next(), "an acknowledged append is inside the durable tail");
        }
        pool.shutdown();
        List<UpdateLog.Entry> all = new DataStore(root, 1 << 20).updateLog(0).read(UpdateLog.start(), 1000);
        assertEquals(800, all.size());
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i + 1, all.get(i).seq(), "sequence numbers without gaps");
        }
        assertEquals(8000, all.get(799).cumulativeBytes());
    }

    @Test
    void aTornLastRecordIsCutOffAndTheLogGoesOn() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "a", 10, "x");
        long intact = store.updateLog(0).tail().offset();
        Path file = root.resolve("ulog").resolve("0.log");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 40, 1, 2, 3})); // a record that a crash cut short
        }
        DataStore reopened = new DataStore(root, 1 << 20);
        assertEquals(intact, reopened.updateLog(0).tail().offset());
        put(reopened, "b", 11, "y");
        assertEquals(2, reopened.updateLog(0).read(UpdateLog.start(), 10).size());
    }

    @Test
    void aLogCreatedAnewHasAnotherId() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        var first = store.updateLog(0).id();
        Files.delete(root.resolve("ulog").resolve("0.log"));
        assertNotEquals(first, new DataStore(root, 1 << 20).updateLog(0).id());
    }

    @Test
    void aDeletedVersionIsNeverStoredAgain() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "k", 5, "data");
        assertEquals(1, store.items());
        assertTrue(store.delete(0, Keys.utf8("k"), 5));
        assertEquals(0, store.items());
        assertTrue(store.isDeleted(0, Keys.utf8("k"), 5));
        assertThrows(VersionDeletedException.class, () -> put(store, "k", 5, "data"));
        // A delete of a version this member never had still leaves a tombstone, so a late copy is refused.
        assertFalse(store.delete(0, Keys.utf8("never"), 6));
        assertThrows(VersionDeletedException.class, () -> put(store, "never", 6, "late copy"));
        assertEquals(0, new DataStore(root, 1 << 20).items(), "tombstones are not counted as items");
    }

    @Test
    void inventoriesListVersionsAndTombstonesAndTheirDigestsMatchOnlyWhenEqual() throws IOException {
        DataStore a = new DataStore(root.resolve("a"), 1 << 20);
        DataStore b = new DataStore(root.resolve("b"), 1 << 20);
        for (int i = 0; i < 50; i++) {
            put(a, "key" + i, 100 + i, "v" + i);
            put(b, "key" + i, 100 + i, "v" + i);
        }
        a.delete(0, Keys.utf8("key7"), 107);
        b.delete(0, Keys.utf8("key7"), 107);
        assertEquals(new Inventory(a, 0).digests(), new Inventory(b, 0).digests());

        List<Inventory.Item> all = new Inventory(a, 0).list(null, 1000);
        assertEquals(50, all.size());
        assertEquals(1, all.stream().filter(Inventory.Item::deleted).count());
        List<Inventory.Item> firstPage = new Inventory(a, 0).list(null, 20);
        List<Inventory.Item> rest = new Inventory(a, 0).list(firstPage.get(19).name(), 1000);
        assertEquals(20, firstPage.size());
        assertEquals(30, rest.size());
        assertEquals(all.get(20).name(), rest.get(0).name());

        b.delete(0, Keys.utf8("key3"), 103);
        put(b, "extra", 999, "z");
        Map<String, String> da = new Inventory(a, 0).digests();
        Map<String, String> db = new Inventory(b, 0).digests();
        long differing =
                db.keySet().stream().filter(k -> !db.get(k).equals(da.get(k))).count();
        assertTrue(differing >= 1 && differing <= 2, "only the buckets of the two changes differ: " + differing);
    }
}
