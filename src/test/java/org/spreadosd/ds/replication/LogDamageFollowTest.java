package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.UpdateLog;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.LogRecord;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * A peer that follows a member's update log by position, over the replica protocol on a real HTTP port, when
 * the member finds a damaged record in the middle of its log at start: the log's new id sends the peer back
 * to the start, and it reads every record that survived, those after the damage too.
 */
class LogDamageFollowTest {
    @TempDir
    Path dir;

    ActorTestKit kit;
    ExecutorService blocking;
    ServerBinding binding;

    @BeforeEach
    void start() {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
        blocking = Executors.newFixedThreadPool(4);
    }

    @AfterEach
    void stop() throws Exception {
        if (binding != null) {
            binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        blocking.shutdownNow();
        kit.shutdownTestKit();
    }

    private static void put(DataStore store, String key, long vtime) throws IOException {
        byte[] b = Keys.utf8("bytes of " + key);
        store.write(new VersionId(0, Keys.utf8(key), vtime), null, new ByteArrayInputStream(b), b.length);
    }

    private String serve(DataStore store) throws Exception {
        Materializer mat = Materializer.matFromSystem(kit.system());
        ReplicaApi api = new ReplicaApi(store, blocking, mat);
        binding = Http.get(kit.system())
                .newServerAt("127.0.0.1", 0)
                .bind(api::handle)
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        return "http://127.0.0.1:" + binding.localAddress().getPort();
    }

    @Test
    void aPeerPastTheDamageReadsTheRewrittenLogFromItsStart() throws Exception {
        DataStore member = new DataStore(dir.resolve("member"), 1 << 20);
        for (int i = 0; i < 6; i++) {
            put(member, "k" + i, 100 + i);
        }
        UpdateLog.Tail tailBefore = member.updateLog(0).tail();
        List<UpdateLog.Entry> written = member.updateLog(0).read(UpdateLog.start(), 10);
        // The peer has applied the first four records and holds the position after them.
        UpdateLog.Entry fourth = written.get(3);
        Position peerAt =
                new Position(tailBefore.logId().toString(), fourth.next(), fourth.seq(), fourth.cumulativeBytes());
        // Bit rot in the second record, found when the member starts again.
        try (FileChannel ch = FileChannel.open(
                dir.resolve("member").resolve("ulog").resolve("0.log"),
                StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xee}), written.get(0).next() + 30);
        }
        DataStore restarted = new DataStore(dir.resolve("member"), 1 << 20);
        String url = serve(restarted);

        ReplicaClient peer = new ReplicaClient(
                kit.system(),
                new BlobStreamClient(kit.system()),
                new DataStore(dir.resolve("peer"), 1 << 20),
                blocking);
        LogBatch batch = peer.log(url, 0, peerAt, 100).toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertNotEquals(peerAt.logId(), batch.tail().logId(), "the peer sees that the log changed");
        assertEquals(UpdateLog.start(), batch.from(), "and reads it from the start");
        assertEquals(
                List.of("k0", "k2", "k3", "k4", "k5"),
                batch.entries().stream().map(e -> Keys.printable(e.key())).toList(),
                "every record but the damaged one, those after the damage too");
        LogRecord last = batch.entries().get(batch.entries().size() - 1);
        assertEquals(batch.tail().offset(), last.next());

        // Following on from where that batch ended in the new log reads nothing twice.
        Position next = new Position(batch.tail().logId(), last.next(), last.seq(), last.cumulativeBytes());
        put(restarted, "k6", 106);
        LogBatch more = peer.log(url, 0, next, 100).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(last.next(), more.from());
        assertEquals(
                List.of("k6"),
                more.entries().stream().map(e -> Keys.printable(e.key())).toList());
    }

    @Test
    void aPeerPastADamagedLastRecordReadsFromTheStartAfterTheLogGrewOverItsPosition() throws Exception {
        DataStore member = new DataStore(dir.resolve("member"), 1 << 20);
        put(member, "k0", 100);
        put(member, "k1", 101);
        UpdateLog.Tail tailBefore = member.updateLog(0).tail();
        List<UpdateLog.Entry> written = member.updateLog(0).read(UpdateLog.start(), 10);
        // The peer has applied both records; then bit rot hits the last one.
        Position peerAt = new Position(
                tailBefore.logId().toString(), tailBefore.offset(), tailBefore.seq(), tailBefore.cumulativeBytes());
        try (FileChannel ch = FileChannel.open(
                dir.resolve("member").resolve("ulog").resolve("0.log"),
                StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xee}), written.get(0).next() + 30);
        }
        DataStore restarted = new DataStore(dir.resolve("member"), 1 << 20);
        // Records of the same length: the peer's old offset is where the record of k3 starts now.
        put(restarted, "k2", 102);
        put(restarted, "k3", 103);
        String url = serve(restarted);

        ReplicaClient peer = new ReplicaClient(
                kit.system(),
                new BlobStreamClient(kit.system()),
                new DataStore(dir.resolve("peer"), 1 << 20),
                blocking);
        LogBatch batch = peer.log(url, 0, peerAt, 100).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertNotEquals(peerAt.logId(), batch.tail().logId());
        assertEquals(UpdateLog.start(), batch.from(), "read from the start, so k2 is not skipped");
        assertEquals(
                List.of("k0", "k2", "k3"),
                batch.entries().stream().map(e -> Keys.printable(e.key())).toList());
    }

    @Test
    void aPositionThatIsNoRecordBoundaryReadsFromTheStartInsteadOfFailingForever() throws Exception {
        DataStore member = new DataStore(dir.resolve("member"), 1 << 20);
        for (int i = 0; i < 3; i++) {
            put(member, "k" + i, 100 + i);
        }
        UpdateLog log = member.updateLog(0);
        List<UpdateLog.Entry> written = log.read(UpdateLog.start(), 10);
        String url = serve(member);
        ReplicaClient peer = new ReplicaClient(
                kit.system(),
                new BlobStreamClient(kit.system()),
                new DataStore(dir.resolve("peer"), 1 << 20),
                blocking);
        Position inside = new Position(log.id().toString(), written.get(0).next() + 5, 1, 0);
        LogBatch batch = peer.log(url, 0, inside, 100).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(UpdateLog.start(), batch.from());
        assertEquals(3, batch.entries().size());
    }

    @Test
    void damageFoundWhileTheMemberRunsResetsTheLogOnceAndThePeerReadsEveryIntactRecord() throws Exception {
        DataStore member = new DataStore(dir.resolve("member"), 1 << 20);
        for (int i = 0; i < 6; i++) {
            put(member, "k" + i, 100 + i);
        }
        UpdateLog log = member.updateLog(0);
        UpdateLog.Tail tailBefore = log.tail();
        List<UpdateLog.Entry> written = log.read(UpdateLog.start(), 10);
        String url = serve(member);
        ReplicaClient peer = new ReplicaClient(
                kit.system(),
                new BlobStreamClient(kit.system()),
                new DataStore(dir.resolve("peer"), 1 << 20),
                blocking);
        // The peer has applied the first record; then bit rot hits the third while the member runs.
        UpdateLog.Entry first = written.get(0);
        Position peerAt =
                new Position(tailBefore.logId().toString(), first.next(), first.seq(), first.cumulativeBytes());
        try (FileChannel ch = FileChannel.open(
                dir.resolve("member").resolve("ulog").resolve("0.log"),
                StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) 0xee}), written.get(1).next() + 30);
        }

        LogBatch batch = peer.log(url, 0, peerAt, 100).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertNotEquals(peerAt.logId(), batch.tail().logId(), "the first read across the damage resets the log");
        assertEquals(UpdateLog.start(), batch.from());
        assertEquals(
                List.of("k0", "k1", "k3", "k4", "k5"),
                batch.entries().stream().map(e -> Keys.printable(e.key())).toList(),
                "every record that still reads, those after the damage too");
        assertEquals(log.id().toString(), batch.tail().logId(), "the running log goes on under the new id");

        LogRecord last = batch.entries().get(batch.entries().size() - 1);
        Position next = new Position(batch.tail().logId(), last.next(), last.seq(), last.cumulativeBytes());
        put(member, "k6", 106);
        LogBatch more = peer.log(url, 0, next, 100).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(next.logId(), more.tail().logId(), "no second reset");
        assertEquals(last.next(), more.from());
        assertEquals(
                List.of("k6"),
                more.entries().stream().map(e -> Keys.printable(e.key())).toList(),
                "appends after the rewrite are read under the new id");
        assertEquals(
                List.of("k0", "k1", "k3", "k4", "k5", "k6"),
                new DataStore(dir.resolve("member"), 1 << 20)
                        .updateLog(0).read(UpdateLog.start(), 100).stream()
                                .map(e -> Keys.printable(e.key()))
                                .toList(),
                "what was rewritten while running is what a restart finds");
    }
}
