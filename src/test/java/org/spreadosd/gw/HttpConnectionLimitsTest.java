package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.edge.ConnectionGate;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RawHttpConnection;
import org.spreadosd.testing.RawHttpConnection.Answer;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * The public HTTP port keeps at most spreadosd.clients.http.max-connections connections and cuts headers that do
 * not arrive within header-timeout, however slowly they trickle: with slowloris and idle connections far beyond the
 * limit (and beyond Pekko's own 1024, which used to leave every further client waiting in the accept backlog), a
 * normal client keeps getting its answers. Client addresses 127.0.0.2 and up stand for other hosts.
 */
class HttpConnectionLimitsTest {
    private static final int LIMIT = 300;
    private static final int PER_ADDRESS = 150;
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(3);

    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension(Map.of(
            "spreadosd.clients.http.max-connections",
            LIMIT,
            "spreadosd.clients.http.max-connections-per-address",
            PER_ADDRESS,
            "spreadosd.clients.http.header-timeout",
            HEADER_TIMEOUT.toMillis() + "ms",
            "spreadosd.clients.http.idle-timeout",
            "60s"));

    private final List<RawHttpConnection> opened = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();
    private final Http http = new Http();

    @AfterEach
    void closeAll() {
        trickler.shutdownNow();
        opened.forEach(RawHttpConnection::close);
    }

    @Test
    void tricklingHeadersAreCutAt408WithinTheHeaderTimeout() throws Exception {
        List<RawHttpConnection> slow = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            slow.add(open(address(2)));
        }
        trickle(slow);
        long start = System.nanoTime();
        for (RawHttpConnection c : slow) {
            Answer a = c.answer(HEADER_TIMEOUT.plusSeconds(10));
            assertEquals(408, a.status(), a.text());
            assertTrue(a.text().contains("header-timeout"), a.text());
            assertTrue(c.closedWithin(Duration.ofSeconds(5)), "cut connections are closed");
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(HEADER_TIMEOUT.plusSeconds(5)) < 0, "cut after " + took);
        assertEquals(404, http.get(standalone.node().uri("/data/none")).statusCode());
    }

    @Test
    void aNormalClientIsAnsweredBesideSlowlorisAndIdleConnectionsBeyondTheLimit() throws Exception {
        assertEquals(
                202,
                http.put(standalone.node().uri("/data/there"), "x".getBytes(StandardCharsets.UTF_8))
                        .statusCode());
        List<RawHttpConnection> slowloris = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            slowloris.add(open(address(2 + i / 100)));
        }
        trickle(slowloris);
        for (int i = 0; i < 800; i++) {
            open(address(5 + i / 100)); // idle: connected, never a byte
        }
        ConnectionGate gate = NodeClients.get(standalone.node().node().system()).httpGate();

        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            long t0 = System.nanoTime();
            try (RawHttpConnection c = RawHttpConnection.open(standalone.node().httpPort())) {
                c.send("GET /data/there HTTP/1.1\r\nHost: x\r\n\r\n");
                Answer a = c.answer(Duration.ofSeconds(10));
                assertEquals(200, a.status(), a.text());
            }
            latencies.add(System.nanoTime() - t0);
        }
        Collections.sort(latencies);
        Duration p99 = Duration.ofNanos(latencies.get(98));
        System.out.println("normal client p99 " + p99.toMillis() + " ms beside 300 slowloris and 800 idle"
                + " connections, limit " + LIMIT + ": open " + gate.open() + ", evicted " + gate.evictions());
        assertTrue(p99.compareTo(Duration.ofSeconds(2)) < 0, "p99 " + p99);
        assertTrue(gate.open() <= LIMIT, "open " + gate.open());
        assertTrue(gate.evictions() > 0, "connections beyond the limit evict idle ones");

        // every slowloris connection is gone by the header timeout, evicted or cut
        long deadline = System.nanoTime() + HEADER_TIMEOUT.plusSeconds(10).toNanos();
        for (RawHttpConnection c : slowloris) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            assertTrue(c.closedWithin(Duration.ofMillis(left)), "a slowloris connection is still open");
        }
    }

    @Test
    void oneAddressBeyondItsOwnLimitIsRefused() throws Exception {
        ConnectionGate gate = NodeClients.get(standalone.node().node().system()).httpGate();
        await(() -> gate.open() < 10, () -> "connections of earlier tests closed: " + gate.open());
        List<RawHttpConnection> mine = new ArrayList<>();
        for (int i = 0; i < PER_ADDRESS; i++) {
            mine.add(open(address(20)));
        }
        InetAddress twenty = address(20);
        await(() -> gate.openFrom(twenty) == PER_ADDRESS, () -> "admitted: " + gate.openFrom(twenty));
        RawHttpConnection extra = open(address(20));
        extra.send("GET /data/there HTTP/1.1\r\nHost: x\r\n\r\n");
        Answer a = extra.answer(Duration.ofSeconds(10));
        assertEquals(503, a.status(), a.text());
        assertTrue(a.text().contains("already has " + PER_ADDRESS + " connections"), a.text());
        assertTrue(extra.closedWithin(Duration.ofSeconds(5)));
        // another address is still served
        try (RawHttpConnection c =
                RawHttpConnection.open(address(21), standalone.node().httpPort())) {
            c.send("GET /data/nothing HTTP/1.1\r\nHost: x\r\n\r\n");
            assertEquals(404, c.answer(Duration.ofSeconds(10)).status());
        }
        mine.forEach(RawHttpConnection::close);
    }

    private static void await(BooleanSupplier condition, Supplier<String> what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what.get());
            }
            Thread.sleep(50);
        }
    }

    @Test
    void aDataServersPortFullOfIdleConnectionsStillAnswers() throws Exception {
        int dataPort = standalone.node().node().settings().dataPort();
        for (int i = 0; i < 1100; i++) {
            RawHttpConnection c = RawHttpConnection.open(address(30 + i / 100), dataPort);
            opened.add(c); // beyond Pekko HTTP's max-connections of 1024: idle ones make room
        }
        try (RawHttpConnection c = RawHttpConnection.open(address(50), dataPort)) {
            c.send("GET /no-such-endpoint HTTP/1.1\r\nHost: x\r\n\r\n");
            int status = c.answer(Duration.ofSeconds(10)).status();
            assertTrue(status >= 400 && status < 500, "status " + status);
        }
    }

    private RawHttpConnection open(InetAddress from) {
        RawHttpConnection c = RawHttpConnection.open(from, standalone.node().httpPort());
        opened.add(c);
        return c;
    }

    /** Each connection sends one more byte of an endless header every 500 ms, until it is closed. */
    private void trickle(List<RawHttpConnection> connections) {
        byte[] start = "GET /data/there HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.ISO_8859_1);
        List<RawHttpConnection> alive = new CopyOnWriteArrayList<>(connections);
        alive.forEach(c -> c.trySend(new byte[] {start[0]}));
        int[] sent = {1};
        trickler.scheduleWithFixedDelay(
                () -> {
                    byte b = sent[0] < start.length ? start[sent[0]] : (byte) 'a';
                    sent[0]++;
                    alive.removeIf(c -> !c.trySend(new byte[] {b}));
                },
                500,
                500,
                TimeUnit.MILLISECONDS);
    }

    private static InetAddress address(int last) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
    }
}
