package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RawHttpConnection;
import org.spreadosd.testing.RawHttpConnection.Answer;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * Bodies that do not arrive as announced, on raw sockets against a live node: a body shorter than its
 * Content-Length or a truncated chunked body is the client's mistake (400), a body that stalls below
 * spreadosd.clients.http.body-min-rate is cut (408); nothing of either is stored. Over PUT, urlencoded and
 * multipart forms, small bodies (gathered whole) and large ones (streamed).
 */
class BadBodiesTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension(Map.of(
            "spreadosd.clients.http.body-min-rate", "1 KiB",
            "spreadosd.clients.http.body-rate-window", "2s"));

    private static final Duration ANSWER = Duration.ofSeconds(20);
    private static final String BOUNDARY = "b0undary";

    private final Http http = new Http();

    @Test
    void aPutShorterThanItsContentLengthIs400AndNothingIsStored() {
        assertShortBody("put-small", put("put-small", 1000), 10);
        assertShortBody("put-large", put("put-large", 4 << 20), 1 << 20);
    }

    @Test
    void aTruncatedChunkedPutIs400AndNothingIsStored() {
        String head = "PUT /data/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(head + "10\r\n0123456789abcdef\r\n8\r\n0123").endOutput();
            assertClientError(c.answer(ANSWER));
        }
        assertNotStored("chunked");
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(head.replace("/chunked", "/badchunk") + "10\r\n0123456789abcdef\r\nzz\r\n0123\r\n");
            assertClientError(c.answer(ANSWER));
        }
        assertNotStored("badchunk");
    }

    @Test
    void aShortUrlencodedFormIs400AndNothingIsStored() {
        assertShortBody(
                "form",
                "POST /data/form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: 5000\r\n\r\n",
                "data=" + "x".repeat(100));
    }

    @Test
    void aShortMultipartUploadIs400AndNothingIsStored() {
        assertShortBody("multipart", multipartHead("multipart", 3 << 20), multipartStart() + "y".repeat(1 << 20));
        assertShortBody("multipart-small", multipartHead("multipart-small", 5000), multipartStart() + "y".repeat(100));
    }

    @Test
    void aStalledPutIs408AndNothingIsStored() {
        assertStalled("stalled-small", put("stalled-small", 10_000), "z".repeat(100));
        assertStalled("stalled-large", put("stalled-large", 8 << 20), "z".repeat(1 << 20));
        assertStalled("stalled-empty", put("stalled-empty", 1000), "");
    }

    @Test
    void aStalledFormIs408AndNothingIsStored() {
        assertStalled(
                "stalled-form",
                "POST /data/stalled-form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: 5000\r\n\r\n",
                "data=abc");
        assertStalled(
                "stalled-multipart",
                multipartHead("stalled-multipart", 3 << 20),
                multipartStart() + "y".repeat(1 << 20));
    }

    @Test
    void aBodyTricklingFasterThanTheMinimumRateIsStored() throws Exception {
        // 2 KiB every second for 5 s: above the minimum of 1 KiB/s, though it waits for each write
        int chunk = 2048;
        int chunks = 5;
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(put("trickled", chunk * chunks));
            for (int i = 0; i < chunks; i++) {
                c.send("t".repeat(chunk));
                Thread.sleep(1000);
            }
            assertEquals(202, c.answer(ANSWER).status());
        }
        assertEquals(
                chunk * chunks,
                http.get(standalone.node().uri("/data/trickled")).body().length);
    }

    private void assertShortBody(String key, String head, int sent) {
        assertShortBody(key, head, "s".repeat(sent));
    }

    private void assertShortBody(String key, String head, String body) {
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(head + body).endOutput();
            assertClientError(c.answer(ANSWER));
        }
        assertNotStored(key);
    }

    private void assertStalled(String key, String head, String body) {
        long start = System.nanoTime();
        try (RawHttpConnection c = RawHttpConnection.open(port())) {
            c.send(head + body);
            Answer a = c.answer(ANSWER);
            assertEquals(408, a.status(), a.text());
            assertTrue(a.text().contains("body-min-rate"), a.text());
            assertTrue(c.closedWithin(ANSWER), "a connection whose body was cut is closed");
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(Duration.ofSeconds(15)) < 0, "cut after " + took);
        assertNotStored(key);
    }

    private static void assertClientError(Answer a) {
        assertEquals(400, a.status(), a.text());
    }

    private void assertNotStored(String key) {
        int status = http.get(standalone.node().uri("/data/" + key)).statusCode();
        assertEquals(404, status, key + " must not be stored");
    }

    private static String put(String key, long length) {
        return "PUT /data/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n";
    }

    private static String multipartHead(String key, long length) {
        return "POST /data/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=" + BOUNDARY
                + "\r\nContent-Length: " + length + "\r\n\r\n";
    }

    private static String multipartStart() {
        return "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"vname\"\r\n\r\nv1\r\n--" + BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"data\"; filename=\"f\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n";
    }

    private int port() {
        return standalone.node().httpPort();
    }
}
