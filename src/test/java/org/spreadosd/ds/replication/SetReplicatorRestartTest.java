package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.replication.ReplicaProtocol.Digests;
import org.spreadosd.ds.replication.ReplicaProtocol.InventoryPage;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.util.Supervised;

/**
 * A set's replicator against a real peer (its data store behind the replica API on a real HTTP port), with
 * the peer link failing once: replication of the set goes on after a failure without a message (which used
 * to stop the replicator for good) and after a failure that restarts the replicator.
 */
class SetReplicatorRestartTest {
    static final int RSID = 0;
    static final Supervised.Backoff BACKOFF = new Supervised.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 0);

    @TempDir
    Path dir;

    ActorTestKit kit;
    ExecutorService blocking;
    DataStore peerStore;
    DataStore ownStore;
    ServerBinding peerBinding;
    final ClusterView view = new ClusterView();
    final ReplicationStatus status = new ReplicationStatus();

    @BeforeEach
    void start() throws Exception {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local\npekko.actor.testkit.typed.filter-leeway = 20s")
                        .withFallback(ConfigFactory.load()));
        blocking = Executors.newFixedThreadPool(8);
        Materializer mat = Materializer.matFromSystem(kit.system());
        peerStore = new DataStore(dir.resolve("peer"), 1 << 30);
        ownStore = new DataStore(dir.resolve("own"), 1 << 30);
        ReplicaApi api = new ReplicaApi(peerStore, blocking, mat);
        BlobStreamServer blobs = new BlobStreamServer(
                new BlobService(peerStore, blocking, mat, Duration.ofSeconds(30), null, corrupt -> {}, 0), mat);
        int port = FreePorts.next();
        peerBinding = Http.get(kit.system())
                .newServerAt("127.0.0.1", port)
                .bind((Function<HttpRequest, CompletionStage<HttpResponse>>)
                        r -> ReplicaApi.handles(r.getUri().path()) ? api.handle(r) : blobs.handle(r))
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        NodeInfo own = new NodeInfo(1, "own", "127.0.0.1:1", List.of(RSID), "here", "http://127.0.0.1:1", null);
        NodeInfo peer = new NodeInfo(2, "peer", "127.0.0.1:2", List.of(RSID), "here", "http://127.0.0.1:" + port, null);
        view.update(new ClusterConfig(1, List.of(own, peer), Map.of(), Set.of()));
    }

    @AfterEach
    void stop() throws Exception {
        peerBinding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        kit.shutdownTestKit();
        blocking.shutdownNow();
    }

    @Test
    void aFailureWithoutMessageIsRetriedAndTheSetCatchesUp() throws Exception {
        storeOnPeer("before", 1, 2, 3);
        FlakyPeers peers = new FlakyPeers(client());
        peers.failNextInventory.set(true);
        // Unsupervised on purpose: the failure must be handled, not survived by a restart.
        kit.spawn(replicator(peers, Duration.ofMinutes(10)), "replicator-unsupervised");

        waitUntil(() -> holds("before", 1, 2, 3), "the versions stored before the failure are copied");
        storeOnPeer("after", 4, 5);
        waitUntil(() -> holds("after", 4, 5), "versions stored afterwards follow from the peer's log");
        assertTrue(peers.failed.get(), "the injected failure happened");
    }

    @Test
    void aReplicatorThatThrowsIsRestartedAndTheSetCatchesUp() throws Exception {
        storeOnPeer("before", 1, 2);
        FlakyPeers peers = new FlakyPeers(client());
        // The first anti-entropy round, right after the bootstrap, finds a peer link that throws instead of answering.
        peers.throwOnDigests.set(true);
        LoggingTestKit.warn("actor replicator-0 failed")
                .withMessageContains("digests exploded")
                .expect(
                        kit.system(),
                        () -> kit.spawn(
                                Supervised.restarting(replicator(peers, Duration.ofMillis(300)), BACKOFF),
                                "replicator-0"));
        assertTrue(peers.failed.get(), "the injected failure happened");
        storeOnPeer("after", 7, 8, 9);
        waitUntil(
                () -> holds("before", 1, 2) && holds("after", 7, 8, 9),
                "versions stored before and after the restart are copied");
    }

    private Behavior<SetReplicator.Command> replicator(ReplicaPeers peers, Duration antiEntropy) {
        return SetReplicator.create(
                RSID,
                1,
                view,
                ownStore,
                peers,
                status,
                new SetReplicator.Settings(Duration.ofMillis(100), antiEntropy, 500, 4),
                Materializer.matFromSystem(kit.system()),
                blocking);
    }

    private ReplicaClient client() {
        return new ReplicaClient(kit.system(), new BlobStreamClient(kit.system()), ownStore, blocking);
    }

    private void storeOnPeer(String prefix, int... vtimes) throws IOException {
        for (int v : vtimes) {
            byte[] data = (prefix + v).getBytes();
            peerStore.write(
                    new VersionId(RSID, Keys.utf8(prefix + v), v), null, new ByteArrayInputStream(data), data.length);
        }
    }

    private boolean holds(String prefix, int... vtimes) {
        for (int v : vtimes) {
            try {
                if (ownStore.find(new VersionId(RSID, Keys.utf8(prefix + v), v)).isEmpty()) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }

    /** The real peer link, failing once where a test asks it to. */
    static final class FlakyPeers implements ReplicaPeers {
        final ReplicaPeers real;
        final AtomicBoolean failNextInventory = new AtomicBoolean();
        final AtomicBoolean throwOnDigests = new AtomicBoolean();
        final AtomicBoolean failed = new AtomicBoolean();

        FlakyPeers(ReplicaPeers real) {
            this.real = real;
        }

        @Override
        public CompletionStage<LogBatch> log(String dataUrl, int rsid, Position from, int max) {
            return real.log(dataUrl, rsid, from, max);
        }

        @Override
        public CompletionStage<InventoryPage> inventory(String dataUrl, int rsid, String after, int max) {
            if (failNextInventory.compareAndSet(true, false)) {
                failed.set(true);
                // A connection cut mid-body: EOFException carries no message.
                return CompletableFuture.failedFuture(new EOFException());
            }
            return real.inventory(dataUrl, rsid, after, max);
        }

        @Override
        public CompletionStage<Digests> digests(String dataUrl, int rsid) {
            if (throwOnDigests.compareAndSet(true, false)) {
                failed.set(true);
                throw new IllegalStateException("digests exploded");
            }
            return real.digests(dataUrl, rsid);
        }

        @Override
        public CompletionStage<InventoryPage> bucket(String dataUrl, int rsid, String bucket) {
            return real.bucket(dataUrl, rsid, bucket);
        }

        @Override
        public CompletionStage<ReplicaPeers.Copied> copy(String dataUrl, VersionId v) {
            return real.copy(dataUrl, v);
        }
    }
}
