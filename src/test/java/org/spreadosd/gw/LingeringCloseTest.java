package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.edge.ConnectionGate;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.testing.RawHttpConnection;
import org.spreadosd.testing.RawHttpConnection.Answer;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * An answer the node sends before it has read a request's body (here 413: a form declared larger than
 * spreadosd.http.max-form-size) reaches a client that goes on writing its body and reads the answer only afterwards:
 * the node keeps reading and dropping the client's bytes for a while after such an answer (lingering close) instead
 * of closing at once, when the client's next bytes would be answered with a reset that also throws away the answer
 * it was sent. The linger is bounded in time (spreadosd.clients.http.linger-timeout and linger-time) and in bytes
 * (linger-max-bytes), and a lingering connection goes on counting at the connection gate, not busy: the first to be evicted for room.
 */
class LingeringCloseTest {
    private static final Duration LINGER_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration LINGER_TIME = Duration.ofSeconds(8);
    private static final long LINGER_MAX_BYTES = 6 << 20;
    private static final Duration ANSWER = Duration.ofSeconds(20);
    private static final byte[] CHUNK = "x".repeat(64 << 10).getBytes();

    private static final int MAX_CONNECTIONS = 4;

    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension(Map.of(
            "spreadosd.clients.http.max-connections",
            MAX_CONNECTIONS,
            "spreadosd.http.max-form-size",
            "64 KiB",
            "spreadosd.clients.http.linger-timeout",
            LINGER_TIMEOUT.toMillis() + "ms",
            "spreadosd.clients.http.linger-time",
            LINGER_TIME.toMillis() + "ms",
            "spreadosd.clients.http.linger-max-bytes",
            Long.toString(LINGER_MAX_BYTES)));

    private static final String REFUSED_HEAD = "POST /data/big-form HTTP/1.1\r\nHost: x\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 67108864\r\n\r\ndata="
            // past max-form-size: the node refuses on reading these
            + "x".repeat(128 << 10);

    private static final String GET = "GET /data/none HTTP/1.1\r\nHost: x\r\n\r\n";

    @Test
    void aClientWritingItsBodyAfterAnEarlyAnswerStillReadsTheAnswer() {
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(REFUSED_HEAD);
            assertTrue(c.answerArrives(ANSWER), "the node answers before the body");
            // the client goes on with its body, 4 MiB of it, before it looks at what came back
            for (int sent = 0; sent < 4 << 20; sent += CHUNK.length) {
                c.send(CHUNK);
            }
            Answer answer = c.answer(ANSWER);
            assertEquals(413, answer.status(), answer.text());
            assertTrue(answer.text().contains("larger than 65536 bytes"), answer.text());
        }
    }

    @Test
    void aLingerIsBoundedInTimeWhileBytesKeepComing() throws Exception {
        ConnectionGate gate = gate();
        // this class's connections only: the earlier tests' are closed
        await(() -> gate.open() == 0, () -> "connections still open before the test: " + gate.open());
        int before = 0;
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(REFUSED_HEAD);
            assertEquals(413, c.answer(ANSWER).status());
            long since = System.nanoTime();
            assertTrue(c.trySend(new byte[] {'x'}));
            assertEquals(before + 1, gate.open(), "a lingering connection counts at the gate");
            // a byte every 100 ms never leaves linger-timeout without one: only linger-time ends it
            while (c.trySend(new byte[] {'x'})) {
                assertTrue(
                        System.nanoTime() - since < LINGER_TIME.plusSeconds(10).toNanos(),
                        "the connection is closed within linger-time");
                Thread.sleep(100);
            }
            assertTrue(System.nanoTime() - since >= LINGER_TIME.minusMillis(500).toNanos(), "it lingered");
        }
        await(() -> gate.open() == before, () -> "the gate's count is back at " + before + ": " + gate.open());
    }

    @Test
    void aLingerEndsOnceTheClientIsSilent() throws Exception {
        ConnectionGate gate = gate();
        // this class's connections only: the earlier tests' are closed
        await(() -> gate.open() == 0, () -> "connections still open before the test: " + gate.open());
        int before = 0;
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(REFUSED_HEAD);
            assertEquals(413, c.answer(ANSWER).status());
            await(() -> gate.open() == before, () -> "a silent lingering connection is closed: " + gate.open());
        }
    }

    @Test
    void aLingerEndsAfterItsMaximumOfBytes() {
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(REFUSED_HEAD);
            assertEquals(413, c.answer(ANSWER).status());
            long sent = 0;
            while (c.trySend(CHUNK)) {
                sent += CHUNK.length;
                // what the sockets' buffers hold comes on top of what the node read and dropped
                assertTrue(sent < LINGER_MAX_BYTES + (32 << 20), "cut after linger-max-bytes, sent " + sent);
            }
            assertTrue(sent >= LINGER_MAX_BYTES, "what the node drops before the close: " + sent);
        }
    }

    @Test
    void aLingeringConnectionIsEvictedForRoomBeforeIdleOnes() throws Exception {
        ConnectionGate gate = gate();
        await(() -> gate.open() == 0, () -> "connections still open before the test: " + gate.open());
        long evictionsBefore = gate.evictions();
        List<RawHttpConnection> served = new ArrayList<>();
        ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();
        try (RawHttpConnection lingering = RawHttpConnection.open(port())) {
            lingering.send(REFUSED_HEAD);
            assertEquals(413, lingering.answer(ANSWER).status());
            AtomicBoolean cut = new AtomicBoolean();
            // bytes keep coming, so only an eviction ends this linger before linger-time
            trickler.scheduleWithFixedDelay(
                    () -> cut.compareAndSet(false, !lingering.trySend(new byte[] {'x'})),
                    0,
                    100,
                    TimeUnit.MILLISECONDS);
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                RawHttpConnection c = RawHttpConnection.open(port());
                served.add(c);
                assertEquals(404, c.send(GET).answer(ANSWER).status());
            }
            assertEquals(evictionsBefore + 1, gate.evictions(), "one connection evicted for the last");
            await(cut::get, () -> "the lingering connection is the one evicted");
            // the idle ones, more recently active, are all still there
            for (RawHttpConnection c : served) {
                assertEquals(404, c.send(GET).answer(ANSWER).status());
            }
        } finally {
            trickler.shutdownNow();
            served.forEach(RawHttpConnection::close);
        }
    }

    private static ConnectionGate gate() {
        return NodeClients.get(standalone.node().node().system()).httpGate();
    }

    private static int port() {
        return standalone.node().httpPort();
    }

    private static void await(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what.get());
            }
            Thread.sleep(50);
        }
    }
}
