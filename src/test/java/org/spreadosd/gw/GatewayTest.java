package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.ds.BlobLink;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.mds.JdbcMetadataStore;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.Keys;
import org.spreadosd.model.Limits;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionClock;
import org.spreadosd.model.VersionId;
import org.spreadosd.model.VersionRecord;
import org.spreadosd.testing.FreePorts;

/**
 * The gateway against a real data server over the node-to-node byte stream API, and a dead one
 * (a port nobody listens on): failures are 503s that leave nothing visible, reads fall back.
 */
class GatewayTest {
    @TempDir
    Path dir;

    ActorTestKit kit;
    ExecutorService blocking;
    MetadataStore mds;
    DataStore store;
    BlobService service;
    ServerBinding binding;
    final ClusterView view = new ClusterView();
    NodeInfo live;
    NodeInfo dead;

    @BeforeEach
    void start() throws Exception {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
        blocking = Executors.newFixedThreadPool(8);
        mds = new JdbcMetadataStore(MdsUri.embeddedH2(dir.resolve("mds")), 4, VersionClock.system());
        store = new DataStore(dir.resolve("ds"), 1 << 30);
        Materializer mat = Materializer.matFromSystem(kit.system());
        service = new BlobService(store, blocking, mat, Duration.ofSeconds(30), null, corrupt -> {}, 0);
        BlobStreamServer server = new BlobStreamServer(service, mat);
        int port = FreePorts.next();
        binding = Http.get(kit.system())
                .newServerAt("127.0.0.1", port)
                .bind(server::handle)
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        live = new NodeInfo(1, "live", "127.0.0.1:1", List.of(0), "here", "http://127.0.0.1:" + port, null);
        dead = new NodeInfo(2, "dead", "127.0.0.1:2", List.of(0), "here", "http://127.0.0.1:" + FreePorts.next(), null);
    }

    @AfterEach
    void stop() throws Exception {
        binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        kit.shutdownTestKit();
        mds.close();
        blocking.shutdownNow();
    }

    Gateway gateway(GatewayMode mode, NodeInfo... members) {
        view.update(new ClusterConfig(view.config().revision() + 1, List.of(members), Map.of(), Set.of()));
        return new Gateway(
                mds,
                view,
                DataLinks.remote(new BlobStreamClient(kit.system())),
                blocking,
                mode,
                "here",
                Limits.DEFAULTS,
                Materializer.matFromSystem(kit.system()));
    }

    static <T> T await(CompletionStage<T> stage) {
        return stage.toCompletableFuture().join();
    }

    static Throwable failure(CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            return e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    VersionRecord add(Gateway gw, String key, String data) {
        byte[] bytes = data.getBytes();
        return await(gw.add(Keys.utf8(key), BlobBody.of(ByteString.fromArray(bytes)), null, null, Attributes.EMPTY));
    }

    String read(Gateway gw, VersionRecord v) {
        var download = await(gw.open(v, 0, v.size()));
        return await(download.data()
                        .runWith(
                                Sink.fold(ByteString.emptyByteString(), ByteString::concat),
                                Materializer.matFromSystem(kit.system())))
                .utf8String();
    }

    @Test
    void anUnreachableDataServerIsA503AndTheAddLeavesNothing() {
        Gateway gw = gateway(GatewayMode.READ_WRITE, dead);
        Throwable e =
                failure(gw.add(Keys.utf8("k"), BlobBody.of(ByteString.fromString("x")), null, null, Attributes.EMPTY));
        assertTrue(e instanceof SpreadFailure, e.toString());
        assertEquals(FailureCode.PEER_LOST, ((SpreadFailure) e).code(), e.toString());
        assertEquals(503, ((SpreadFailure) e).httpStatus());
        assertTrue(mds.find(Keys.utf8("k"), Selector.HEAD).isEmpty());
        assertTrue(mds.stalePending(Long.MAX_VALUE, 10).isEmpty(), "the reservation was dropped");
    }

    @Test
    void anAddWhoseCoordinatorIsLostIsCoordinatedByTheNextMember() throws Exception {
        Gateway gw = gateway(GatewayMode.READ_WRITE, dead, live);
        for (int i = 0; i < 20; i++) {
            VersionRecord v = add(gw, "lost" + i, "value" + i);
            assertEquals("value" + i, read(gw, v));
            assertTrue(store.find(new VersionId(0, Keys.utf8("lost" + i), v.vtime()))
                    .isPresent());
        }
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aFrozenDataServerIsPassedOverWithinTheAnswerTimeout() throws Exception {
        try (ServerSocket frozen = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(frozen.accept()); // accepted, never answered: a stopped process's kernel does this
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.start();
            NodeInfo stopped = new NodeInfo(
                    3, "stopped", "127.0.0.1:3", List.of(0), "here", "http://127.0.0.1:" + frozen.getLocalPort(), null);
            view.update(new ClusterConfig(view.config().revision() + 1, List.of(stopped, live), Map.of(), Set.of()));
            Gateway gw = new Gateway(
                    mds,
                    view,
                    DataLinks.remote(new BlobStreamClient(kit.system(), Duration.ofMillis(500))),
                    blocking,
                    GatewayMode.READ_WRITE,
                    "here",
                    Limits.DEFAULTS,
                    Materializer.matFromSystem(kit.system()));
            for (int i = 0; i < 10; i++) {
                long started = System.nanoTime();
                VersionRecord v = add(gw, "frozen" + i, "value" + i);
                assertEquals("value" + i, read(gw, v));
                long tookMillis = (System.nanoTime() - started) / 1_000_000;
                assertTrue(tookMillis < 20_000, "add and read took " + tookMillis + " ms");
            }
            assertTrue(!held.isEmpty(), "the frozen member was tried");
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void aCoordinatedAddOfAVersionAlreadyHeldSucceedsOnlyWithTheSameBytes() {
        BlobStreamClient client = new BlobStreamClient(kit.system());
        byte[] key = Keys.utf8("held");
        Source<ByteString, ?> same =
                Source.from(List.of(ByteString.fromString("same "), ByteString.fromString("bytes")));
        await(client.put(
                live.dataUrl(),
                new VersionId(0, key, 42),
                null,
                BlobBody.of(ByteString.fromString("same bytes")),
                false));
        assertEquals(
                10,
                await(client.put(live.dataUrl(), new VersionId(0, key, 42), null, BlobBody.streaming(same, 10), true))
                        .size());
        Throwable e = failure(client.put(
                live.dataUrl(),
                new VersionId(0, key, 42),
                null,
                BlobBody.of(ByteString.fromString("diff bytes")),
                true));
        assertEquals(FailureCode.ALREADY_STORED, ((SpreadFailure) e).code(), e.toString());
        assertEquals(409, ((SpreadFailure) e).httpStatus());
    }

    /**
     * A gateway's own data server (in process) and a remote one (its byte stream API over HTTP) fail with the same
     * codes, whatever the data server's own failure was: a version already stored, one deleted, a damaged copy.
     */
    @Test
    void aDataServerFailsAlikeOverHttpAndInProcess() throws Exception {
        BlobLink remote = new BlobStreamClient(kit.system()).to(live.dataUrl());
        BlobLink local = service.link();
        byte[] key = Keys.utf8("alike");
        await(local.put(new VersionId(0, key, 7), null, BlobBody.of(ByteString.fromString("stored")), false));
        await(local.delete(new VersionId(0, key, 8)));
        for (BlobLink link : List.of(remote, local)) {
            SpreadFailure exists = (SpreadFailure) failure(
                    link.put(new VersionId(0, key, 7), null, BlobBody.of(ByteString.fromString("others")), false));
            assertEquals(FailureCode.ALREADY_STORED, exists.code(), exists.getMessage());
            assertTrue(
                    exists.getMessage().contains("answered 409: version 7 of alike is already stored"),
                    exists::getMessage);
            SpreadFailure deleted = (SpreadFailure) failure(
                    link.put(new VersionId(0, key, 8), null, BlobBody.of(ByteString.fromString("late")), false));
            assertEquals(FailureCode.DELETED, deleted.code(), deleted.getMessage());
            assertEquals(410, deleted.httpStatus());
        }
        Path file = DataStore.pathOf(dir.resolve("ds"), new VersionId(0, key, 7));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {'X'}), ch.size() - 1);
        }
        for (BlobLink link : List.of(remote, local)) {
            SpreadFailure damaged = (SpreadFailure) failure(link.get(new VersionId(0, key, 7), 0, Long.MAX_VALUE));
            // the data server answers 500 for its damaged copy; to the gateway that member could not serve
            assertEquals(FailureCode.UNAVAILABLE, damaged.code(), damaged.getMessage());
            assertTrue(damaged.getMessage().contains("answered 500: "), damaged::getMessage);
            assertTrue(damaged.getMessage().contains("does not match its checksum"), damaged::getMessage);
        }
    }

    @Test
    void withNoMemberReachableTheMembersAreTriedAnyway() {
        Gateway writer = gateway(GatewayMode.READ_WRITE, live);
        VersionRecord v = add(writer, "unreachable", "still here");
        // the failure detector calls the live member unreachable (a busy host, a GC pause): the read tries it anyway
        NodeInfo doubted = new NodeInfo(
                live.nid(),
                live.name(),
                live.address(),
                live.rsids(),
                live.location(),
                live.dataUrl(),
                null,
                "127.0.0.1:9");
        Gateway reader = gateway(GatewayMode.READ_WRITE, doubted);
        view.membershipChanged(Set.of(), Set.of());
        assertTrue(!view.isReachable(doubted));
        assertEquals("still here", read(reader, v));
    }

    @Test
    void readsFallBackToTheNextMember() {
        Gateway writer = gateway(GatewayMode.READ_WRITE, live);
        List<VersionRecord> versions = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            versions.add(add(writer, "key" + i, "value" + i));
        }
        Gateway reader = gateway(GatewayMode.READ_WRITE, live, dead);
        for (int i = 0; i < 20; i++) {
            assertEquals("value" + i, read(reader, versions.get(i)));
        }
        Gateway nobody = gateway(GatewayMode.READ_WRITE, dead);
        Throwable e = failure(nobody.open(versions.get(0), 0, versions.get(0).size()));
        assertEquals(FailureCode.UNAVAILABLE, ((SpreadFailure) e).code(), e.toString());
        assertEquals(503, ((SpreadFailure) e).httpStatus());
    }

    @Test
    void theGarbageScanDropsAddsThatNeverCompleted() throws Exception {
        Gateway gw = gateway(GatewayMode.READ_WRITE, live);
        byte[] key = Keys.utf8("orphan");
        ObjectKey reserved = mds.reserve(key, () -> 0);
        await(new BlobStreamClient(kit.system())
                .put(
                        live.dataUrl(),
                        reserved.version(),
                        null,
                        BlobBody.streaming(Source.single(ByteString.fromString("half")), 4),
                        false));
        assertTrue(store.find(new VersionId(0, key, reserved.vtime())).isPresent());
        assertEquals(0, await(gw.sweepStaleReservations(Duration.ofHours(1))), "young reservations are left alone");
        assertEquals(1, await(gw.sweepStaleReservations(Duration.ZERO)));
        assertTrue(store.find(new VersionId(0, key, reserved.vtime())).isEmpty(), "bytes removed");
        assertTrue(mds.stalePending(Long.MAX_VALUE, 10).isEmpty(), "reservation removed");
    }

    @Test
    void deleteRemovesBytesFromTheDataServer() throws Exception {
        Gateway gw = gateway(GatewayMode.READ_WRITE, live);
        VersionRecord v = add(gw, "del", "bytes");
        assertTrue(store.find(new VersionId(0, Keys.utf8("del"), v.vtime())).isPresent());
        assertTrue(await(gw.delete(Keys.utf8("del"), Selector.HEAD)).isPresent());
        assertTrue(store.find(new VersionId(0, Keys.utf8("del"), v.vtime())).isEmpty());
    }

    @Test
    void readOnlyAndSnapshotGateways() {
        Gateway rw = gateway(GatewayMode.READ_WRITE, live);
        VersionRecord first = add(rw, "snap", "one");
        add(rw, "snap", "two");
        Gateway snapshot = gateway(new GatewayMode(false, first.vtime(), null), live);
        assertEquals(
                first.vtime(),
                await(snapshot.find(Keys.utf8("snap"), Selector.HEAD))
                        .orElseThrow()
                        .vtime());
        Throwable e = failure(snapshot.remove(Keys.utf8("snap")));
        assertEquals(FailureCode.READ_ONLY, ((SpreadFailure) e).code());
        assertEquals(403, ((SpreadFailure) e).httpStatus());
        Gateway readOnly = gateway(new GatewayMode(true, null, null), live);
        Throwable add = failure(
                readOnly.add(Keys.utf8("x"), BlobBody.of(ByteString.fromString("x")), null, null, Attributes.EMPTY));
        assertEquals(403, ((SpreadFailure) add).httpStatus());
        assertTrue(add.getMessage().contains("read-only"));
        Gateway named = gateway(new GatewayMode(false, null, Keys.utf8("release")), live);
        assertTrue(
                await(named.find(Keys.utf8("snap"), Selector.HEAD)).isEmpty(), "no version carries the snapshot name");
    }
}
