package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamPaths;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.UpdateLog;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/** Copies from a peer over real HTTP: a peer that serves the blob stream API's GET from a JDK HTTP server. */
class ReplicaClientTest {
    private static final byte[] KEY = Keys.utf8("photo/1");
    private static final long VTIME = 1_700_000_000_000L;

    @TempDir
    Path dir;

    ActorTestKit kit;
    ExecutorService blocking;
    HttpServer peer;
    DataStore store;
    ReplicaClient client;
    /** What the peer announces (size, CRC) is always that of {@code original}; it sends {@code sent}. */
    volatile byte[] original;

    volatile byte[] sent;

    @BeforeEach
    void start() throws IOException {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
        blocking = Executors.newFixedThreadPool(4);
        store = new DataStore(dir.resolve("ds"), 1 << 30);
        client = new ReplicaClient(kit.system(), new BlobStreamClient(kit.system()), store, blocking);
        peer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        peer.createContext(BlobStreamPaths.path(new VersionId(0, KEY, VTIME)), exchange -> {
            CRC32C crc = new CRC32C();
            crc.update(original);
            exchange.getResponseHeaders().add(BlobStreamPaths.SIZE_HEADER, Long.toString(original.length));
            exchange.getResponseHeaders().add(BlobStreamPaths.CRC_HEADER, Integer.toString((int) crc.getValue()));
            exchange.sendResponseHeaders(200, sent.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(sent);
            }
        });
        peer.start();
    }

    @AfterEach
    void stop() {
        peer.stop(0);
        blocking.shutdownNow();
        kit.shutdownTestKit();
    }

    private String peerUrl() {
        return "http://127.0.0.1:" + peer.getAddress().getPort();
    }

    private ReplicaPeers.Copied copy() throws Exception {
        return client.copy(peerUrl(), new VersionId(0, KEY, VTIME))
                .toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
    }

    /** Small copies arrive whole, large ones as a stream: both are checked before they become visible. */
    @ParameterizedTest
    @ValueSource(ints = {1000, 5 << 20})
    void aCopyThatDoesNotMatchItsAnnouncedChecksumNeverEntersTheStoreOrTheLog(int size) throws Exception {
        original = new byte[size];
        new Random(size).nextBytes(original);
        sent = original.clone();
        sent[size / 2] ^= 0x10; // damaged on the way

        ExecutionException failed = assertThrows(ExecutionException.class, this::copy);
        assertInstanceOf(SpreadFailure.class, failed.getCause());
        assertEquals(FailureCode.UNAVAILABLE, ((SpreadFailure) failed.getCause()).code());
        assertTrue(
                failed.getCause().getMessage().contains("does not match its checksum"), failed.getCause()::getMessage);

        assertTrue(store.find(new VersionId(0, KEY, VTIME)).isEmpty(), "the damaged copy is not in the store");
        assertFalse(Files.exists(store.pathOf(new VersionId(0, KEY, VTIME))));
        assertEquals(0, store.items());
        assertEquals(
                List.of(), store.updateLog(0).read(UpdateLog.start(), 10), "the damaged copy is not in the update log");
        try (Stream<Path> tmp = Files.list(dir.resolve("ds").resolve("tmp"))) {
            assertEquals(List.of(), tmp.toList(), "the partial file is gone");
        }

        sent = original; // the next attempt gets intact bytes and stores them
        assertEquals(ReplicaPeers.Copied.COPIED, copy());
        assertTrue(store.find(new VersionId(0, KEY, VTIME)).isPresent());
        List<UpdateLog.Entry> logged = store.updateLog(0).read(UpdateLog.start(), 10);
        assertEquals(1, logged.size());
        assertEquals(UpdateLog.Op.PUT, logged.get(0).op());
        assertEquals(size, logged.get(0).size());
    }
}
