package org.spreadosd.ds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/** The update log, tombstones and inventories that replication between members is built on. */
class UpdateLogTest {
    @TempDir
    Path root;

    private static StoredBlob put(DataStore store, String key, long vtime, String data) throws IOException {
        byte[] b = Keys.utf8(data);
        return store.write(new VersionId(0, Keys.utf8(key), vtime), null, new ByteArrayInputStream(b), b.length);
    }

    @Test
    void everyStoreAndDeleteIsLoggedInOrderAndSurvivesReopening() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "a", 10, "hello");
        put(store, "b", 11, "world!");
        assertTrue(store.delete(new VersionId(0, Keys.utf8("a"), 10)));
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
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<UpdateLog.Entry>> appended = new ArrayList<>();
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
        UUID id = store.updateLog(0).id();
        DataStore reopened = new DataStore(root, 1 << 20);
        assertEquals(intact, reopened.updateLog(0).tail().offset());
        assertEquals(id, reopened.updateLog(0).id(), "a torn tail keeps the log's id");
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
        assertTrue(store.delete(new VersionId(0, Keys.utf8("k"), 5)));
        assertEquals(0, store.items());
        assertTrue(store.isDeleted(new VersionId(0, Keys.utf8("k"), 5)));
        assertEquals(
                FailureCode.DELETED,
                assertThrows(SpreadFailure.class, () -> put(store, "k", 5, "data"))
                        .code());
        // A delete of a version this member never had still leaves a tombstone, so a late copy is refused.
        assertFalse(store.delete(new VersionId(0, Keys.utf8("never"), 6)));
        assertEquals(
                FailureCode.DELETED,
                assertThrows(SpreadFailure.class, () -> put(store, "never", 6, "late copy"))
                        .code());
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
        a.delete(new VersionId(0, Keys.utf8("key7"), 107));
        b.delete(new VersionId(0, Keys.utf8("key7"), 107));
        assertEquals(new Inventory(a, 0).digests(), new Inventory(b, 0).digests());

        List<Inventory.Item> all = new Inventory(a, 0).list(null, 1000);
        assertEquals(50, all.size());
        assertEquals(1, all.stream().filter(Inventory.Item::deleted).count());
        List<Inventory.Item> firstPage = new Inventory(a, 0).list(null, 20);
        List<Inventory.Item> rest = new Inventory(a, 0).list(firstPage.get(19).name(), 1000);
        assertEquals(20, firstPage.size());
        assertEquals(30, rest.size());
        assertEquals(all.get(20).name(), rest.get(0).name());

        b.delete(new VersionId(0, Keys.utf8("key3"), 103));
        put(b, "extra", 999, "z");
        Map<String, String> da = new Inventory(a, 0).digests();
        Map<String, String> db = new Inventory(b, 0).digests();
        long differing =
                db.keySet().stream().filter(k -> !db.get(k).equals(da.get(k))).count();
        assertTrue(differing >= 1 && differing <= 2, "only the buckets of the two changes differ: " + differing);
    }

    /** Flips one byte of the log file at {@code offset}, the way bit rot would. */
    private static void flipByteAt(Path file, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x04));
            ch.write(b.rewind(), offset);
        }
    }

    private static ListAppender<ILoggingEvent> captureLog() {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(UpdateLog.class)).addAppender(appender);
        return appender;
    }

    private static List<String> errors(ListAppender<ILoggingEvent> appender) {
        return appender.list.stream()
                .filter(e -> e.getLevel() == Level.ERROR)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    @Test
    void aDamagedRecordInTheMiddleGivesTheLogANewIdAndKeepsTheRecordsAfterIt() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "a", 10, "one");
        put(store, "b", 11, "two!");
        put(store, "c", 12, "three");
        assertTrue(store.delete(new VersionId(0, Keys.utf8("a"), 10)));
        UUID before = store.updateLog(0).id();
        List<UpdateLog.Entry> written = store.updateLog(0).read(UpdateLog.start(), 10);
        Path file = root.resolve("ulog").resolve("0.log");
        long damagedAt = written.get(0).next(); // the record of "b"
        flipByteAt(file, damagedAt + 20);

        ListAppender<ILoggingEvent> appender = captureLog();
        try {
            UpdateLog reopened = new DataStore(root, 1 << 20).updateLog(0);
            assertNotEquals(before, reopened.id(), "peers holding a position in the damaged log must start over");
            List<String> errors = errors(appender);
            assertEquals(1, errors.size(), "one ERROR line: " + errors);
            assertTrue(errors.get(0).contains(file.toString()), errors.get(0));
            assertTrue(errors.get(0).contains("offset " + damagedAt), errors.get(0));
            assertTrue(errors.get(0).contains(reopened.id().toString()), errors.get(0));

            List<UpdateLog.Entry> kept = reopened.read(UpdateLog.start(), 10);
            assertEquals(
                    List.of("a PUT", "c PUT", "a DELETE"),
                    kept.stream()
                            .map(e -> Keys.printable(e.key()) + " " + e.op())
                            .toList(),
                    "every intact record is kept, those after the damage too");
            assertEquals(
                    List.of(1L, 2L, 3L), kept.stream().map(UpdateLog.Entry::seq).toList());
            assertEquals(8, reopened.tail().cumulativeBytes(), "bytes of the kept puts");
            assertEquals(kept.get(2).next(), reopened.tail().offset());

            put(store = new DataStore(root, 1 << 20), "d", 13, "four");
            UpdateLog again = store.updateLog(0);
            assertEquals(reopened.id(), again.id(), "the rewritten log is intact: reopening keeps its id");
            assertEquals(4, again.read(UpdateLog.start(), 10).size());
            assertEquals(1, errors(appender).size(), "no new ERROR for an intact log");
        } finally {
            ((Logger) LoggerFactory.getLogger(UpdateLog.class)).detachAppender(appender);
        }
        try (Stream<Path> files = Files.list(root.resolve("ulog"))) {
            List<Path> damaged = files.filter(p -> p.getFileName().toString().startsWith("0.log.damaged-"))
                    .toList();
            assertEquals(1, damaged.size(), "the damaged log is kept for the operator");
            assertEquals(written.get(3).next(), Files.size(damaged.get(0)));
        }
    }

    @Test
    void damageFoundByAReadWhileRunningRewritesTheLogOnceWhileAppendsGoOn() throws Exception {
        DataStore store = new DataStore(root, 1 << 20);
        for (int i = 0; i < 5; i++) {
            put(store, "k" + i, 10 + i, "data " + i);
        }
        UpdateLog log = store.updateLog(0);
        UUID before = log.id();
        List<UpdateLog.Entry> written = log.read(UpdateLog.start(), 10);
        Path file = root.resolve("ulog").resolve("0.log");
        long damagedAt = written.get(1).next(); // the record of k2
        flipByteAt(file, damagedAt + 20);

        ListAppender<ILoggingEvent> appender = captureLog();
        ExecutorService appenders = Executors.newFixedThreadPool(2);
        try {
            // Appends race the rewrite: none may be lost, whichever side of it they land on.
            List<Future<?>> appends = new ArrayList<>();
            for (int i = 5; i < 25; i++) {
                int n = i;
                appends.add(appenders.submit(() -> put(store, "k" + n, 10 + n, "data " + n)));
            }
            UpdateLog.Batch first = log.read(before, written.get(0).next(), 1000);
            assertNotEquals(before, first.tail().logId(), "the read across the damage resets the log");
            assertEquals(UpdateLog.start(), first.from());
            assertEquals(log.id(), first.tail().logId());
            for (Future<?> f : appends) {
                f.get();
            }
            List<String> errors = errors(appender);
            assertEquals(1, errors.size(), "one ERROR line: " + errors);
            assertTrue(errors.get(0).contains("offset " + damagedAt), errors.get(0));
            assertTrue(errors.get(0).contains(log.id().toString()), errors.get(0));

            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                if (i != 2) {
                    expected.add("k" + i);
                }
            }
            List<UpdateLog.Entry> all = log.read(UpdateLog.start(), 1000);
            assertEquals(
                    expected,
                    all.stream()
                            .map(e -> Keys.printable(e.key()))
                            .sorted((a, b) ->
                                    Integer.compare(Integer.parseInt(a.substring(1)), Integer.parseInt(b.substring(1))))
                            .toList(),
                    "every record that still reads, and every append made while the log was rewritten");
            assertEquals(all.get(all.size() - 1).next(), log.tail().offset());
            for (int i = 0; i < all.size(); i++) {
                assertEquals(i + 1, all.get(i).seq(), "the new log counts its records from one");
            }
            UpdateLog.Batch again = log.read(log.id(), first.from(), 1000);
            assertEquals(log.id(), again.tail().logId(), "the rewritten log reads without another reset");
            assertEquals(1, errors(appender).size());

            UpdateLog reopened = new DataStore(root, 1 << 20).updateLog(0);
            assertEquals(log.id(), reopened.id(), "a restart finds the rewritten log intact");
            assertEquals(all.size(), reopened.read(UpdateLog.start(), 1000).size());
        } finally {
            appenders.shutdownNow();
            ((Logger) LoggerFactory.getLogger(UpdateLog.class)).detachAppender(appender);
        }
        try (Stream<Path> files = Files.list(root.resolve("ulog"))) {
            assertEquals(
                    1,
                    files.filter(p -> p.getFileName().toString().startsWith("0.log.damaged-"))
                            .count(),
                    "the damaged log is kept for the operator");
        }
    }

    @Test
    void aWholeLastRecordFailingItsChecksumIsDamageNotATear() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "a", 10, "one");
        put(store, "b", 11, "two");
        UUID before = store.updateLog(0).id();
        List<UpdateLog.Entry> written = store.updateLog(0).read(UpdateLog.start(), 10);
        flipByteAt(root.resolve("ulog").resolve("0.log"), written.get(0).next() + 12);

        ListAppender<ILoggingEvent> appender = captureLog();
        try {
            UpdateLog reopened = new DataStore(root, 1 << 20).updateLog(0);
            assertNotEquals(before, reopened.id(), "a peer may have read the record: it must start over");
            assertEquals(1, errors(appender).size(), errors(appender).toString());
            assertEquals(written.get(0).next(), reopened.tail().offset(), "the damaged record is gone");
            assertEquals(1, reopened.read(UpdateLog.start(), 10).size());
        } finally {
            ((Logger) LoggerFactory.getLogger(UpdateLog.class)).detachAppender(appender);
        }
    }

    @Test
    void aZeroFilledTailIsCutUnderTheSameIdWithoutAnError() throws IOException {
        DataStore store = new DataStore(root, 1 << 20);
        put(store, "a", 10, "one");
        UpdateLog.Tail intact = store.updateLog(0).tail();
        Path file = root.resolve("ulog").resolve("0.log");
        // a crash after the file system made the log longer but before the appended page reached the disk
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.allocate(4096));
        }
        ListAppender<ILoggingEvent> appender = captureLog();
        try {
            UpdateLog reopened = new DataStore(root, 1 << 20).updateLog(0);
            assertEquals(intact, reopened.tail());
            assertEquals(intact.offset(), Files.size(file));
            assertEquals(List.of(), errors(appender));
        } finally {
            ((Logger) LoggerFactory.getLogger(UpdateLog.class)).detachAppender(appender);
        }
    }
}
