package org.spreadosd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.SpreadProcess;
import org.spreadosd.testing.Tool;
import org.spreadosd.testing.Tool.Result;

/**
 * The README quick start, run with the real {@code curl} against {@code scripts/spread-standalone} started
 * as a real process on loopback and free ports; refusals to start; data surviving a restart.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class QuickStartIT {

    @TempDir
    Path tmp;

    private final List<SpreadProcess> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    @AfterEach
    void stopServers() {
        for (SpreadProcess p : started) {
            p.stop();
        }
        started.clear();
    }

    @Test
    void readmeQuickStartWithCurl() throws Exception {
        SpreadProcess server = start(tmp.resolve("data"), FreePorts.next());
        server.awaitReady();
        String base = "http://127.0.0.1:" + server.httpPort;

        Result add = curl("-s", "-X", "POST", "-d", "data=value1&attrs={\"test\":\"attr\"}", base + "/data/key1");
        assertEquals(0, add.exitCode(), () -> "curl POST failed: " + add + "\nserver log:\n" + server.log());

        Result data = curl("-s", base + "/data/key1");
        assertEquals(0, data.exitCode(), data::toString);
        assertEquals("value1", data.out(), () -> "GET /data/key1: " + data + "\nserver log:\n" + server.log());

        Result attrs = curl("-s", base + "/attrs/key1");
        assertEquals(0, attrs.exitCode(), attrs::toString);
        assertEquals(
                "{\"test\":\"attr\"}",
                attrs.out(),
                () -> "GET /attrs/key1: " + attrs + "\nserver log:\n" + server.log());

        Result tsv = curl("-s", "-X", "GET", "-d", "format=tsv", base + "/attrs/key1");
        assertEquals(0, tsv.exitCode(), tsv::toString);
        assertEquals(
                "test\tattr\n",
                tsv.out(),
                () -> "GET /attrs/key1 format=tsv: " + tsv + "\nserver log:\n" + server.log());

        String spreadcli = Path.of(System.getProperty("spread.home", "."))
                .toAbsolutePath()
                .resolve("scripts/spreadcli")
                .toString();
        Result rpc = run(spreadcli, "127.0.0.1:" + server.rpcPort, "get", "key1");
        assertEquals(0, rpc.exitCode(), rpc::toString);
        assertTrue(rpc.out().startsWith("[\"value1\", {\"test\": \"attr\"}]\n"), () -> "spreadcli get key1: " + rpc);
    }

    @Test
    void refusesToStartWhenTheHttpPortIsInUse() throws Exception {
        try (ServerSocket occupied = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = occupied.getLocalPort();
            SpreadProcess server = start(tmp.resolve("data"), port);
            int exit = server.awaitExit();
            String log = server.log();
            assertNotEquals(0, exit, () -> "exit status 0 although HTTP port " + port + " was in use; output:\n" + log);
            assertTrue(log.contains("cannot start"), () -> "no 'cannot start' in the output:\n" + log);
            assertTrue(log.contains(String.valueOf(port)), () -> "the output does not name port " + port + ":\n" + log);
        }
    }

    @Test
    void refusesToStartWhenTheStoreCannotBeWritten() throws Exception {
        Path regularFile = Files.writeString(tmp.resolve("a-regular-file"), "not a directory\n");
        Path store = regularFile.resolve("store").toAbsolutePath();
        SpreadProcess server = start(store, FreePorts.next());
        int exit = server.awaitExit();
        String log = server.log();
        assertNotEquals(0, exit, () -> "exit status 0 with store " + store + " under a regular file; output:\n" + log);
        assertTrue(log.contains("cannot start"), () -> "no 'cannot start' in the output:\n" + log);
        assertTrue(
                log.contains(store.toString()),
                () -> "the output does not name the store directory " + store + ":\n" + log);
    }

    @Test
    void dataSurvivesARestart() throws Exception {
        Path store = tmp.resolve("data");
        byte[] body = new byte[3 * 1024 * 1024 + 17];
        new SplittableRandom(20240611L).nextBytes(body);
        for (int i = 0; i < 256; i++) {
            body[i] = (byte) i; // every byte value, at the start
        }

        SpreadProcess first = start(store, FreePorts.next());
        first.awaitReady();
        URI uri = URI.create("http://127.0.0.1:" + first.httpPort + "/data/restart/object.bin");
        HttpResponse<byte[]> put = http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(60))
                        .PUT(BodyPublishers.ofByteArray(body))
                        .build(),
                BodyHandlers.ofByteArray());
        assertEquals(202, put.statusCode(), () -> "PUT: " + text(put) + "\nserver log:\n" + first.log());
        HttpResponse<byte[]> before = http.send(
                HttpRequest.newBuilder(uri)
                        .timeout(Duration.ofSeconds(60))
                        .GET()
                        .build(),
                BodyHandlers.ofByteArray());
        assertEquals(200, before.statusCode(), () -> "GET before restart: " + text(before));
        assertArrayEquals(body, before.body(), "bytes read back before the restart");
        Optional<String> etagBefore = before.headers().firstValue("ETag");

        assertTrue(
                first.terminate(),
                () -> "the server did not exit within " + SpreadProcess.STOP_TIMEOUT + " of SIGTERM; log:\n"
                        + first.log());

        SpreadProcess second = start(store, FreePorts.next());
        second.awaitReady();
        URI again = URI.create("http://127.0.0.1:" + second.httpPort + "/data/restart/object.bin");
        HttpResponse<byte[]> after = http.send(
                HttpRequest.newBuilder(again)
                        .timeout(Duration.ofSeconds(60))
                        .GET()
                        .build(),
                BodyHandlers.ofByteArray());
        assertEquals(
                200, after.statusCode(), () -> "GET after restart: " + text(after) + "\nserver log:\n" + second.log());
        assertEquals(body.length, after.body().length, "length after the restart");
        assertArrayEquals(body, after.body(), "bytes after the restart");
        assertEquals(
                String.valueOf(body.length),
                after.headers().firstValue("Content-Length").orElse("none"));
        assertEquals(
                etagBefore, after.headers().firstValue("ETag"), "the ETag of the version changed across the restart");
    }

    /**
     * The embedded metadata store writes commits out in the background: an acknowledged change must not wait
     * for that. Writers keep adding and removing while the node is killed with SIGKILL; after a restart every
     * add and every remove that was acknowledged is still there (a remove in flight at the kill may have
     * happened or not).
     */
    @Test
    void everyAcknowledgedChangeSurvivesSigkill() throws Exception {
        Path store = tmp.resolve("data");
        SpreadProcess first = start(store, FreePorts.next());
        first.awaitReady();
        String base = "http://127.0.0.1:" + first.httpPort + "/data/kill9/";
        Set<Integer> added = ConcurrentHashMap.newKeySet();
        Set<Integer> removed = ConcurrentHashMap.newKeySet();
        // A delete that was sent but not answered when the node died may or may not have happened.
        Set<Integer> removing = ConcurrentHashMap.newKeySet();
        AtomicInteger next = new AtomicInteger();
        CountDownLatch enough = new CountDownLatch(300);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Thread t = new Thread(
                    () -> {
                        try {
                            while (true) {
                                int n = next.getAndIncrement();
                                URI uri = URI.create(base + n);
                                HttpResponse<byte[]> put = http.send(
                                        HttpRequest.newBuilder(uri)
                                                .timeout(Duration.ofSeconds(30))
                                                .PUT(BodyPublishers.ofByteArray(bodyOf(n)))
                                                .build(),
                                        BodyHandlers.ofByteArray());
                                if (put.statusCode() != 202) {
                                    return;
                                }
                                added.add(n);
                                if (n % 5 == 0) {
                                    removing.add(n);
                                    HttpResponse<byte[]> del = http.send(
                                            HttpRequest.newBuilder(uri)
                                                    .timeout(Duration.ofSeconds(30))
                                                    .DELETE()
                                                    .build(),
                                            BodyHandlers.ofByteArray());
                                    if (del.statusCode() / 100 != 2) {
                                        return;
                                    }
                                    removed.add(n);
                                }
                                enough.countDown();
                            }
                        } catch (IOException e) {
                            // the node is gone: this writer's last request was not acknowledged
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    },
                    "writer-" + w);
            t.start();
            writers.add(t);
        }
        assertTrue(
                enough.await(120, TimeUnit.SECONDS),
                () -> "300 changes were not acknowledged in 2 minutes; log:\n" + first.log());
        first.kill();
        for (Thread t : writers) {
            t.join(60_000);
        }

        SpreadProcess second = start(store, FreePorts.next());
        second.awaitReady();
        String again = "http://127.0.0.1:" + second.httpPort + "/data/kill9/";
        for (int n : added) {
            HttpResponse<byte[]> get = http.send(
                    HttpRequest.newBuilder(URI.create(again + n))
                            .timeout(Duration.ofSeconds(30))
                            .GET()
                            .build(),
                    BodyHandlers.ofByteArray());
            if (removed.contains(n)) {
                assertEquals(404, get.statusCode(), "acknowledged remove of " + n + " was undone by the restart");
            } else if (removing.contains(n) && get.statusCode() == 404) {
                continue; // its delete was in flight at the kill and went through
            } else {
                assertEquals(
                        200,
                        get.statusCode(),
                        () -> "acknowledged add of " + n + " was lost: " + text(get) + "\nlog:\n" + second.log());
                assertArrayEquals(bodyOf(n), get.body(), "bytes of " + n);
            }
        }
        assertTrue(added.size() >= 300, "writes acknowledged before the kill: " + added.size());
    }

    private static byte[] bodyOf(int n) {
        return ("object " + n + " ").repeat(1 + n % 50).getBytes(StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------

    private SpreadProcess start(Path store, int httpPort) throws IOException {
        SpreadProcess p = SpreadProcess.start(tmp, store, httpPort, Map.of());
        started.add(p);
        return p;
    }

    private Result curl(String... args) throws IOException, InterruptedException {
        return run("curl", args);
    }

    private Result run(String program, String... args) throws IOException, InterruptedException {
        return Tool.run(tmp, program, args);
    }

    private static String text(HttpResponse<byte[]> r) {
        return r.statusCode() + " " + new String(r.body(), 0, Math.min(r.body().length, 2000), StandardCharsets.UTF_8);
    }
}
