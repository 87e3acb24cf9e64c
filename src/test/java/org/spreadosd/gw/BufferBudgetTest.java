package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.edge.ClientBufferBudget;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RawHttpConnection;
import org.spreadosd.testing.RawHttpConnection.Answer;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * Bodies a node gathers in memory draw on its one buffer budget (spreadosd.clients.buffer-budget), so that many
 * stalled uploads together cannot exhaust the heap: once the budget is spent, later form uploads are refused 503
 * naming the setting, while ordinary reads and small PUTs go on being served. A 4 MiB budget and a dozen uploads of
 * a declared 64 MiB stand for the 96 stalled 60 MiB form uploads that made a node run out of memory.
 */
class BufferBudgetTest {
    private static final long BUDGET = 4 << 20;
    private static final int UPLOADS = 12;
    private static final String BOUNDARY = "b0undary";

    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension(Map.of(
            "spreadosd.clients.buffer-budget",
            Long.toString(BUDGET),
            // stalled uploads stay: this test is about memory, not about the rate that cuts them otherwise
            "spreadosd.clients.http.body-min-rate",
            "0"));

    private final Http http = new Http();

    @Test
    void stalledUrlencodedFormsBeyondTheBudgetAreRefused503() throws Exception {
        String head = "POST /data/form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: 67108864\r\n\r\ndata=";
        assertRefusedBeyondTheBudget(head, "x".repeat(1 << 20));
    }

    @Test
    void stalledMultipartFieldsBeyondTheBudgetAreRefused503() throws Exception {
        String head = "POST /data/multipart HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary="
                + BOUNDARY + "\r\nContent-Length: 67108864\r\n\r\n--" + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"vname\"\r\n\r\n";
        assertRefusedBeyondTheBudget(head, "v".repeat(900 << 10));
    }

    /**
     * A refused client that goes on writing its body before it reads (most clients do) still reads the 503 and why:
     * the node lingers after the early answer instead of resetting the connection (spreadosd.clients.http.linger-*).
     */
    @Test
    void aRefusedUploadThatGoesOnWritingStillReadsWhy() throws Exception {
        ClientBufferBudget budget =
                NodeClients.get(standalone.node().node().system()).budget();
        String head = "POST /data/multipart HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary="
                + BOUNDARY + "\r\nContent-Length: 67108864\r\n\r\n--" + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"vname\"\r\n\r\n";
        String field = "v".repeat(900 << 10);
        List<RawHttpConnection> holding = new ArrayList<>();
        try {
            Answer answer = null;
            // stalled uploads until one is refused (answered before its body), which goes on writing regardless
            for (int i = 0; i < UPLOADS && answer == null; i++) {
                RawHttpConnection c = RawHttpConnection.open(standalone.node().httpPort());
                holding.add(c);
                c.send(head + field);
                if (c.answerArrives(Duration.ofSeconds(5))) {
                    byte[] more = "v".repeat(64 << 10).getBytes(StandardCharsets.ISO_8859_1);
                    for (int sent = 0; sent < 2 << 20; sent += more.length) {
                        c.send(more);
                    }
                    answer = c.answer(Duration.ofSeconds(15));
                }
            }
            assertTrue(answer != null, "one of " + UPLOADS + " uploads refused");
            assertEquals(503, answer.status(), answer.text());
            assertTrue(answer.text().contains(ClientBufferBudget.SETTING), answer.text());
        } finally {
            holding.forEach(RawHttpConnection::close);
        }
        await(() -> budget.used() == 0, () -> "what the stalled uploads held is released: " + budget.used());
    }

    private void assertRefusedBeyondTheBudget(String head, String sent) throws Exception {
        ClientBufferBudget budget =
                NodeClients.get(standalone.node().node().system()).budget();
        List<RawHttpConnection> uploads = new ArrayList<>();
        ExecutorService readers = Executors.newFixedThreadPool(UPLOADS);
        try {
            List<CompletableFuture<Answer>> answers = new ArrayList<>();
            for (int i = 0; i < UPLOADS; i++) {
                RawHttpConnection c = RawHttpConnection.open(standalone.node().httpPort());
                uploads.add(c);
                c.send(head + sent);
                answers.add(CompletableFuture.supplyAsync(() -> c.answer(Duration.ofSeconds(15)), readers));
            }
            // the budget holds at most four of them: the others must be answered, refused
            int refused = 0;
            for (CompletableFuture<Answer> a : answers) {
                Answer answer;
                try {
                    answer = a.join();
                } catch (RuntimeException stillHeld) {
                    continue;
                }
                assertEquals(503, answer.status(), answer.text());
                assertTrue(answer.text().contains(ClientBufferBudget.SETTING), answer.text());
                refused++;
            }
            assertTrue(refused >= UPLOADS - BUDGET / sent.length(), refused + " of " + UPLOADS + " refused");
            assertTrue(budget.used() <= BUDGET, "budget used " + budget.used());

            // meanwhile the node serves others, small gathered PUTs included
            byte[] small = "a small object".getBytes(StandardCharsets.UTF_8);
            assertEquals(
                    202, http.put(standalone.node().uri("/data/normal"), small).statusCode());
            assertArrayEquals(
                    small, http.get(standalone.node().uri("/data/normal")).body());
        } finally {
            uploads.forEach(RawHttpConnection::close);
            readers.shutdownNow();
        }
        await(() -> budget.used() == 0, () -> "what the stalled uploads held is released: " + budget.used());
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
