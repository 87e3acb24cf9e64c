package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamClient.BlobFacts;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.UpdateLog;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * A coordinated add through real data servers over HTTP, where the coordinator's copy to its peer passes a proxy that
 * flips one byte of the request: the peer refuses the copy before it becomes visible, and the coordinator counts it
 * as missing.
 */
class ForwardChecksumTest {
    private static final byte[] KEY = Keys.utf8("forwarded/1");
    private static final long VTIME = 1_700_000_000_000L;
    /** Far past the request's headers, well inside its body. */
    private static final int FLIPPED_BYTE = 20_000;

    @TempDir
    Path dir;

    ActorTestKit kit;
    ExecutorService blocking;
    DataStore coordinatorStore;
    DataStore peerStore;
    ServerBinding coordinatorBinding;
    ServerBinding peerBinding;
    ServerSocket proxy;
    final AtomicBoolean flipped = new AtomicBoolean();

    @BeforeEach
    void start() throws Exception {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
        blocking = Executors.newFixedThreadPool(8);
        Materializer mat = Materializer.matFromSystem(kit.system());
        BlobStreamClient client = new BlobStreamClient(kit.system());

        peerStore = new DataStore(dir.resolve("peer"), 1 << 30);
        BlobService peer = new BlobService(peerStore, blocking, mat, Duration.ofSeconds(30), null, corrupt -> {}, 0);
        peerBinding = bind(new BlobStreamServer(peer, mat));
        proxy = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::proxyConnections, "flipping-proxy");
        acceptor.setDaemon(true);
        acceptor.start();

        ClusterView view = new ClusterView();
        coordinatorStore = new DataStore(dir.resolve("coordinator"), 1 << 30);
        WriteCoordinator coordinator = new WriteCoordinator(1, view, client, coordinatorStore);
        BlobService service =
                new BlobService(coordinatorStore, blocking, mat, Duration.ofSeconds(30), coordinator, corrupt -> {}, 0);
        coordinatorBinding = bind(new BlobStreamServer(service, mat));
        view.update(new ClusterConfig(
                        1,
                        List.of(
                                new NodeInfo(
                                        1,
                                        "coordinator",
                                        "127.0.0.1:1",
                                        List.of(0),
                                        "here",
                                        url(coordinatorBinding),
                                        null),
                                new NodeInfo(
                                        2,
                                        "peer",
                                        "127.0.0.1:2",
                                        List.of(0),
                                        "here",
                                        "http://127.0.0.1:" + proxy.getLocalPort(),
                                        null)),
                        Map.of(),
                        Set.of())
                // The damaged copy must not count; one copy is then all this add gets, and the test is about the
                // checksum, not the policy (the default would refuse it with 503).
                .withWritePolicy(0, "all-reachable:1"));
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        coordinatorBinding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        peerBinding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        kit.shutdownTestKit();
        blocking.shutdownNow();
    }

    @Test
    void aForwardedCopyDamagedOnTheWayNeverEntersThePeersStoreOrLog() throws Exception {
        byte[] data = new byte[200_000];
        new Random(7).nextBytes(data);

        BlobFacts facts = new BlobStreamClient(kit.system())
                .put(
                        url(coordinatorBinding),
                        new VersionId(0, KEY, VTIME),
                        null,
                        BlobBody.of(ByteString.fromArray(data)),
                        true)
                .toCompletableFuture()
                .get(60, TimeUnit.SECONDS);

        assertTrue(flipped.get(), "the proxy damaged the forwarded copy");
        assertEquals(1, facts.copies(), "the damaged copy is not counted");
        assertTrue(
                coordinatorStore.find(new VersionId(0, KEY, VTIME)).isPresent(), "the coordinator keeps its own copy");

        assertTrue(
                peerStore.find(new VersionId(0, KEY, VTIME)).isEmpty(), "the damaged copy is not in the peer's store");
        assertFalse(Files.exists(peerStore.pathOf(new VersionId(0, KEY, VTIME))));
        assertEquals(0, peerStore.items());
        assertEquals(
                List.of(),
                peerStore.updateLog(0).read(UpdateLog.start(), 10),
                "the damaged copy is not in the peer's update log");
        try (Stream<Path> tmp = Files.list(dir.resolve("peer").resolve("tmp"))) {
            assertEquals(List.of(), tmp.toList(), "the partial file is gone");
        }
    }

    private ServerBinding bind(BlobStreamServer server) throws Exception {
        return Http.get(kit.system())
                .newServerAt("127.0.0.1", 0)
                .bind(server::handle)
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    private static String url(ServerBinding binding) {
        return "http://127.0.0.1:" + binding.localAddress().getPort();
    }

    /** Relays each connection to the peer; one byte of the first request's stream is flipped on the way. */
    private void proxyConnections() {
        try {
            while (true) {
                Socket in = proxy.accept();
                Socket out = new Socket(
                        InetAddress.getLoopbackAddress(),
                        peerBinding.localAddress().getPort());
                boolean damage = flipped.compareAndSet(false, true);
                relay(in.getInputStream(), out.getOutputStream(), damage ? FLIPPED_BYTE : -1, in, out);
                relay(out.getInputStream(), in.getOutputStream(), -1, in, out);
            }
        } catch (IOException closed) {
            // the test is over
        }
    }

    private static void relay(InputStream from, OutputStream to, long flipAt, Socket a, Socket b) {
        Thread pump = new Thread(() -> {
            byte[] buf = new byte[8192];
            long position = 0;
            try {
                int n;
                while ((n = from.read(buf)) >= 0) {
                    if (flipAt >= position && flipAt < position + n) {
                        buf[(int) (flipAt - position)] ^= 0x01;
                    }
                    position += n;
                    to.write(buf, 0, n);
                    to.flush();
                }
            } catch (IOException closed) {
                // either side went away
            } finally {
                try {
                    a.close();
                    b.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        });
        pump.setDaemon(true);
        pump.start();
    }
}
