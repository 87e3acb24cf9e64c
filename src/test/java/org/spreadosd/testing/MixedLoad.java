package org.spreadosd.testing;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writers adding small objects and readers reading back acknowledged ones through a gateway's HTTP API, as
 * an operator's clients would during a fault: every request that fails (an error status, wrong bytes, a dropped
 * connection, no answer within the client's patience) and every request slower than {@code stallAfter} is
 * counted, with the moment it began.
 */
public final class MixedLoad implements AutoCloseable {
    /** An add the gateway acknowledged: it must never be lost. */
    public record Acked(String key, long vtime, int rsid, byte[] data) {}

    /** A request that failed or stalled: when it began (System.nanoTime), what it was and what happened. */
    public record Incident(long startedAt, String what) {}

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final int httpPort;
    private final String prefix;
    private final Duration stallAfter;
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Acked> acked = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Incident> failed = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Incident> stalled = new ConcurrentLinkedQueue<>();
    private final AtomicLong requests = new AtomicLong();
    private final CountDownLatch firstAck = new CountDownLatch(1);
    private final ExecutorService threads;
    private final List<Future<?>> workers = new ArrayList<>();

    public MixedLoad(int httpPort, String prefix, int writers, int readers, Duration stallAfter) {
        this.httpPort = httpPort;
        this.prefix = prefix;
        this.stallAfter = stallAfter;
        this.threads = Executors.newFixedThreadPool(writers + readers);
        for (int w = 0; w < writers; w++) {
            int worker = w;
            workers.add(threads.submit(() -> write(worker)));
        }
        for (int r = 0; r < readers; r++) {
            workers.add(threads.submit(this::read));
        }
    }

    private Void write(int worker) {
        Random random = new Random(worker);
        for (int i = 0; running.get(); i++) {
            byte[] data = new byte[1024 + random.nextInt(8192)];
            random.nextBytes(data);
            String key = prefix + "-" + worker + "-" + i;
            timed("PUT " + key, () -> {
                HttpResponse<String> r = http.send(
                        request(key)
                                .PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 202) {
                    return r.statusCode() + " " + r.body();
                }
                acked.add(new Acked(
                        key,
                        Long.parseLong(r.headers().firstValue("X-Spread-Vtime").orElseThrow()),
                        Integer.parseInt(r.headers().firstValue("X-Spread-Rsid").orElseThrow()),
                        data));
                firstAck.countDown();
                return null;
            });
        }
        return null;
    }

    private Void read() throws InterruptedException {
        while (running.get() && !firstAck.await(100, TimeUnit.MILLISECONDS)) {
            // nothing acknowledged to read yet
        }
        while (running.get()) {
            Acked a = acked.get(ThreadLocalRandom.current().nextInt(acked.size()));
            timed("GET " + a.key(), () -> {
                HttpResponse<byte[]> r =
                        http.send(request(a.key()).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() != 200) {
                    return r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8);
                }
                return Arrays.equals(r.body(), a.data()) ? null : "wrong bytes";
            });
        }
        return null;
    }

    private interface Request {
        /** Answers null when the request succeeded, else what went wrong. */
        String run() throws IOException, InterruptedException;
    }

    private void timed(String what, Request request) {
        requests.incrementAndGet();
        long started = System.nanoTime();
        String problem;
        try {
            problem = request.run();
        } catch (IOException e) {
            problem = e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        long took = System.nanoTime() - started;
        if (problem != null) {
            failed.add(new Incident(started, what + ": " + problem));
        }
        if (took > stallAfter.toNanos()) {
            stalled.add(new Incident(started, what + " took " + took / 1_000_000 + " ms"));
        }
    }

    private HttpRequest.Builder request(String key) {
        return HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + httpPort + "/data/" + URLEncoder.encode(key, StandardCharsets.UTF_8)))
                .timeout(PATIENCE);
    }

    public int ackedCount() {
        return acked.size();
    }

    public List<Acked> acked() {
        return List.copyOf(acked);
    }

    public List<Incident> failed() {
        return List.copyOf(failed);
    }

    public List<Incident> stalled() {
        return List.copyOf(stalled);
    }

    public long requests() {
        return requests.get();
    }

    /** Stops the load and waits for the requests in flight. */
    @Override
    public void close() throws Exception {
        running.set(false);
        for (Future<?> f : workers) {
            f.get(PATIENCE.toSeconds() * 2, TimeUnit.SECONDS);
        }
        threads.shutdown();
    }
}
