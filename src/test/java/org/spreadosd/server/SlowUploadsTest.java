package org.spreadosd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * Slow uploads and a slow disk against a real standalone node. Uploads that trickle in (a slow client, a mobile link)
 * hold no thread while they wait for their next bytes, and metadata reads go on answering meanwhile; so do they while
 * every disk thread is stuck. One shared pool of 32 threads used to run JDBC and file work and park a thread per
 * streamed upload, so 32 such uploads stalled every metadata read and the 33rd upload.
 */
class SlowUploadsTest {
    /** More than the 32 threads the one shared pool had. */
    private static final int UPLOADS = 40;
    /** Bytes each upload sends, one chunk of one byte at a time. */
    private static final int CHUNKS = 12;

    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    private final Http http = new Http();

    @Test
    void tricklingUploadsParkNoThreadAndNeverDelayAMetadataRead() throws Exception {
        byte[] existing = "already here".getBytes(StandardCharsets.UTF_8);
        assertEquals(202, http.put(uri("/data/existing"), existing).statusCode());

        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        List<TricklingUpload> uploads = new ArrayList<>();
        try {
            for (int i = 0; i < UPLOADS; i++) {
                uploads.add(new TricklingUpload("slow-" + i, (byte) ('a' + i % 26)));
            }
            // Every upload sends one more byte every 300 ms, all from this one client thread.
            clock.scheduleWithFixedDelay(
                    () -> uploads.forEach(u -> u.sendByteUnless(CHUNKS - 1)), 0, 300, TimeUnit.MILLISECONDS);
            await(
                    Duration.ofSeconds(30),
                    "every upload sent bytes",
                    () -> uploads.stream().allMatch(u -> u.sent() >= 3));

            // A metadata read and a read of an object while every upload waits for its next bytes.
            HttpResponse<byte[]> attrs = within(Duration.ofSeconds(20), "GET /attrs/existing", "/attrs/existing");
            assertEquals(200, attrs.statusCode());
            HttpResponse<byte[]> data = within(Duration.ofSeconds(20), "GET /data/existing", "/data/existing");
            assertEquals(200, data.statusCode());
            assertArrayEquals(existing, data.body());

            // Each upload is being written as its bytes arrive: one partial file per upload.
            await(Duration.ofSeconds(30), UPLOADS + " partial files in <store>/tmp", () -> partialFiles() == UPLOADS);

            // No thread waits inside an upload for bytes still on the network; a chunk's write is all that may
            // briefly show.
            for (int sample = 0; sample < 5; sample++) {
                List<String> parked = threadsInsideUploads();
                assertTrue(
                        parked.size() <= 4,
                        parked.size() + " threads held by " + UPLOADS + " idle uploads: " + String.join(", ", parked));
                Thread.sleep(200);
            }
        } finally {
            clock.shutdownNow();
            clock.awaitTermination(10, TimeUnit.SECONDS);
        }

        for (TricklingUpload u : uploads) {
            u.finish();
        }
        for (TricklingUpload u : uploads) {
            assertEquals(202, u.status(), u.key);
            HttpResponse<byte[]> read = http.get(uri("/data/" + u.key));
            assertEquals(200, read.statusCode(), u.key);
            byte[] expected = new byte[CHUNKS];
            Arrays.fill(expected, u.fill);
            assertArrayEquals(expected, read.body(), u.key);
        }
        assertEquals(0, partialFiles(), "no partial file is left");
    }

    /**
     * A disk that stalls (every disk thread stuck in an fsync) holds up what needs the disk, not what needs only the
     * metadata store: the two have pools of their own.
     */
    @Test
    void aStalledDiskDoesNotHoldUpMetadataReads() throws Exception {
        assertEquals(
                202,
                http.put(uri("/data/beside-a-stalled-disk"), new byte[] {1, 2, 3})
                        .statusCode());
        var system = standalone.node().node().system();
        int diskThreads =
                system.settings().config().getInt("spreadosd.disk-dispatcher.thread-pool-executor.fixed-pool-size");
        Executor disk = system.dispatchers().lookup(DispatcherSelector.fromConfig("spreadosd.disk-dispatcher"));
        CountDownLatch stalled = new CountDownLatch(diskThreads);
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < diskThreads * 2; i++) {
            disk.execute(() -> {
                stalled.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        try {
            assertTrue(stalled.await(30, TimeUnit.SECONDS), "every disk thread is held");
            HttpResponse<byte[]> attrs =
                    within(Duration.ofSeconds(20), "GET /attrs/beside-a-stalled-disk", "/attrs/beside-a-stalled-disk");
            assertEquals(200, attrs.statusCode());
        } finally {
            release.countDown();
        }
        assertEquals(200, http.get(uri("/data/beside-a-stalled-disk")).statusCode());
    }

    /** The stack traces of threads that sit in the store's write path or in a stream-to-InputStream bridge. */
    private static List<String> threadsInsideUploads() {
        List<String> found = new ArrayList<>();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            boolean inUpload = Arrays.stream(stack)
                    .anyMatch(f -> f.getClassName().startsWith("org.spreadosd.ds.DataStore")
                            || f.getClassName().contains("InputStreamAdapter"));
            if (inUpload) {
                found.add(thread.getName() + " (" + thread.getState() + ")");
            }
        });
        return found;
    }

    private static long partialFiles() {
        try (Stream<Path> files = Files.list(standalone.store().resolve("tmp"))) {
            return files.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A GET that must answer within {@code limit}, from a client of its own (no queue behind the uploads). */
    private HttpResponse<byte[]> within(Duration limit, String what, String path) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<byte[]>> answer = client.sendAsync(
                HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        try {
            return answer.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(true);
            return fail(what + " got no answer within " + limit + " while " + UPLOADS + " uploads trickled in");
        } catch (ExecutionException e) {
            return fail(what + " failed: " + e.getCause());
        }
    }

    private static void await(Duration limit, String what, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + limit + ": " + what);
            }
            Thread.sleep(50);
        }
    }

    private static URI uri(String path) {
        return standalone.node().uri(path);
    }

    /** An HTTP PUT with a chunked body on a socket of its own, its bytes sent one at a time when told. */
    private static final class TricklingUpload {
        final String key;
        final byte fill;
        private final Socket socket;
        private final OutputStream out;
        private int sent;

        TricklingUpload(String key, byte fill) throws IOException {
            this.key = key;
            this.fill = fill;
            socket = new Socket("127.0.0.1", standalone.node().httpPort());
            socket.setSoTimeout(60_000);
            out = socket.getOutputStream();
            out.write(("PUT /data/" + key + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                            + "Content-Type: application/octet-stream\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        synchronized int sent() {
            return sent;
        }

        /** Sends one more byte unless {@code limit} were sent already. */
        synchronized void sendByteUnless(int limit) {
            if (sent >= limit) {
                return;
            }
            try {
                out.write(new byte[] {'1', '\r', '\n', fill, '\r', '\n'});
                out.flush();
                sent++;
            } catch (IOException e) {
                throw new IllegalStateException(key + ": " + e, e);
            }
        }

        /** Sends the rest and the last chunk. */
        synchronized void finish() throws IOException {
            while (sent < CHUNKS) {
                sendByteUnless(CHUNKS);
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        /** The status of the answer (read once the upload finished). */
        int status() throws IOException {
            try (socket) {
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
                String statusLine = in.readLine();
                return Integer.parseInt(statusLine.split(" ")[1]);
            }
        }
    }
}
