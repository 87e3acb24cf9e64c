package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.model.VersionId;

/** The repair of a damaged version, with a peer that serves its copy over the data port. */
class RepairerTest {
    static final int RSID = 0;
    static final byte[] KEY = "damaged".getBytes(StandardCharsets.UTF_8);
    static final long VTIME = 1_700_000_000_000_001L;
    static final byte[] BODY =
            "the bytes of a version a disk damaged".repeat(100).getBytes(StandardCharsets.UTF_8);

    final ActorTestKit kit = ActorTestKit.create();
    final ExecutorService blocking = Executors.newFixedThreadPool(8);
    final AtomicInteger served = new AtomicInteger();
    Path dir;
    DataStore here;
    DataStore peer;
    ServerBinding peerBinding;
    ReplicationStatus status;
    Repairer repairer;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("spread-repair");
        here = new DataStore(dir.resolve("here"), 1L << 30);
        peer = new DataStore(dir.resolve("peer"), 1L << 30);
        Materializer mat = Materializer.matFromSystem(kit.system());
        BlobStreamClient blobs = new BlobStreamClient(kit.system());
        BlobStreamServer peerServer = new BlobStreamServer(
                new BlobService(peer, blocking, mat, Duration.ofSeconds(10), null, a -> {}, 1 << 20), mat);
        peerBinding = Http.get(kit.system())
                .newServerAt("127.0.0.1", 0)
                .bind((HttpRequest request) -> {
                    served.incrementAndGet();
                    return peerServer.handle(request);
                })
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        String peerUrl = "http://127.0.0.1:" + peerBinding.localAddress().getPort();
        ClusterView view = new ClusterView();
        view.update(new ClusterConfig(
                1,
                List.of(
                        new NodeInfo(1, "ds1", "127.0.0.1:1", List.of(RSID), "here", "http://127.0.0.1:9", null),
                        new NodeInfo(2, "ds2", "127.0.0.1:2", List.of(RSID), "here", peerUrl, null)),
                Map.of(),
                Set.of()));
        status = new ReplicationStatus();
        repairer =
                new Repairer(1, view, here, new ReplicaClient(kit.system(), blobs, here, blocking), blocking, status);
    }

    @AfterEach
    void stop() throws IOException {
        kit.shutdownTestKit();
        blocking.shutdownNow();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Stores the version on both members, then damages one byte of its body here. */
    void damagedHere() throws IOException {
        here.write(new VersionId(RSID, KEY, VTIME), "text/plain", new ByteArrayInputStream(BODY), BODY.length);
        peer.write(new VersionId(RSID, KEY, VTIME), "text/plain", new ByteArrayInputStream(BODY), BODY.length);
        Path file = here.pathOf(new VersionId(RSID, KEY, VTIME));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'#'}), Files.size(file) - 10);
        }
    }

    @Test
    void manyReportsOfOneDamagedVersionCopyItFromAPeerOnce() throws Exception {
        damagedHere();
        int reports = 24;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService readers = Executors.newFixedThreadPool(reports);
        List<CompletableFuture<Boolean>> repairs = new ArrayList<>();
        for (int i = 0; i < reports; i++) {
            repairs.add(CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        return repairer.repair(new VersionId(RSID, KEY, VTIME))
                                .toCompletableFuture()
                                .join();
                    },
                    readers));
        }
        go.countDown();
        for (CompletableFuture<Boolean> repair : repairs) {
            assertTrue(repair.get(60, TimeUnit.SECONDS), "every report hears that a good copy is in place");
        }
        readers.shutdown();

        assertEquals(1, served.get(), "one copy from the peer");
        assertEquals(1, status.repaired.get());
        here.verify(here.find(new VersionId(RSID, KEY, VTIME)).orElseThrow());
        try (Stream<Path> aside = Files.list(dir.resolve("here").resolve("quarantine"))) {
            assertEquals(1, aside.count(), "only the damaged file was moved aside");
        }
    }

    @Test
    void aReportAfterTheRepairLeavesTheGoodCopyInPlace() throws Exception {
        damagedHere();
        assertTrue(repairer.repair(new VersionId(RSID, KEY, VTIME))
                .toCompletableFuture()
                .get(60, TimeUnit.SECONDS));
        assertTrue(repairer.repair(new VersionId(RSID, KEY, VTIME))
                .toCompletableFuture()
                .get(60, TimeUnit.SECONDS));
        assertEquals(1, served.get(), "a late report of the old damage copies nothing");
        here.verify(here.find(new VersionId(RSID, KEY, VTIME)).orElseThrow());
    }
}
