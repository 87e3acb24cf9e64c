package org.spreadosd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.FileOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.SmallDisk;
import org.spreadosd.testing.TestNode;

/**
 * A standalone node whose store (data, update log and embedded H2 metadata store) is a 64 MiB tmpfs, filled by
 * the node's own adds and from outside, leaves the full state by itself: adds refused with 507 below the reserve,
 * {@code /ready} 503 naming the disk, deletes working while the disk is full, and everything back without a restart
 * once space returns. Every answer's status is counted and printed (FULL-DISK lines).
 */
class FullDiskTest {
    private static final long MiB = 1 << 20;
    private static final Duration COMES_BACK_WITHIN = Duration.ofSeconds(15);
    private static final String RESERVE = "16 MiB";
    private static final String HELD_BACK = "4 MiB";

    private final Http http = new Http();
    private final Map<String, Map<Integer, AtomicInteger>> counts = new ConcurrentHashMap<>();
    private SmallDisk disk;
    private TestNode node;

    @BeforeEach
    void mount() throws Exception {
        disk = SmallDisk.mount(64);
    }

    /** @param heldBack the space the node holds back for deletes on a full disk */
    private void startNode(String heldBack) {
        node = TestNode.standalone(
                disk.dir().resolve("store"),
                Map.of(
                        "spreadosd.ds.free-space-reserve", RESERVE,
                        "spreadosd.ds.held-back-space", heldBack,
                        "spreadosd.ds.free-space-check-interval", "200ms"));
    }

    @AfterEach
    void stop() throws Exception {
        counts.forEach((phase, byStatus) -> System.out.println("FULL-DISK " + phase + " " + new TreeMap<>(byStatus)));
        try {
            if (node != null) {
                node.close();
            }
        } finally {
            if (disk != null) {
                disk.close();
            }
        }
    }

    @Test
    void addsStopAtTheReserveDeletesMakeRoomAndTheNodeIsReadyAgainByItself() throws Exception {
        startNode(HELD_BACK);
        byte[] body = new byte[(int) MiB];
        int added = 0;
        HttpResponse<byte[]> refused = null;
        while (added < 100) {
            HttpResponse<byte[]> r = counted("fill", put("/data/k" + added, body));
            if (r.statusCode() != 202) {
                refused = r;
                break;
            }
            added++;
        }
        assertTrue(refused != null, "a 64 MiB disk took 100 MiB");
        assertEquals(507, refused.statusCode(), text(refused));
        assertTrue(text(refused).contains("reserve"), text(refused));
        assertTrue(disk.free() > 8 * MiB, "the refusal came before the disk filled: " + disk.free() + " bytes free");
        System.out.println("FULL-DISK adds before 507: " + added + ", free then " + disk.free() / MiB + " MiB");

        HttpResponse<byte[]> ready = ready();
        assertEquals(503, ready.statusCode(), text(ready));
        assertTrue(text(ready).contains(disk.dir().toString()), "names the disk: " + text(ready));

        for (int i = 0; i < 10; i++) {
            HttpResponse<byte[]> d = counted("delete", delete("/data/k" + i));
            assertEquals(200, d.statusCode(), text(d));
        }
        long freed = System.nanoTime();
        awaitStatus("ready after deletes", this::ready, s -> s == 200);
        System.out.println("FULL-DISK ready 200 " + millisSince(freed) + " ms after the deletes");
        HttpResponse<byte[]> again = counted("after deletes", put("/data/again", body));
        assertEquals(202, again.statusCode(), text(again));
        assertEquals(200, counted("after deletes", get("/data/k" + (added - 1))).statusCode());
        assertEquals(404, counted("after deletes", get("/data/k0")).statusCode());
    }

    @Test
    void deletesAreWrittenWhileTheDiskIsFilledFromOutsideAndAddsComeBackWhenItIsEmptied() throws Exception {
        startNode(HELD_BACK);
        byte[] small = new byte[16 * 1024];
        for (int i = 0; i < 20; i++) {
            assertEquals(202, counted("before", put("/data/old" + i, small)).statusCode());
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong lastAccepted = new AtomicLong();
        AtomicReference<String> phase = new AtomicReference<>("while filling");
        Thread writer = new Thread(() -> {
            int i = 0;
            while (writing.get()) {
                try {
                    HttpResponse<byte[]> r = counted(phase.get(), put("/data/w" + i++, small));
                    if (r.statusCode() == 202) {
                        lastAccepted.set(System.nanoTime());
                    }
                } catch (RuntimeException e) {
                    count(phase.get(), -1);
                }
            }
        });
        writer.start();
        Path ballast = disk.dir().resolve("ballast");
        try {
            fillWith(ballast);
            long full = System.nanoTime();
            System.out.println("FULL-DISK ballast " + Files.size(ballast) / MiB + " MiB, free " + disk.free());
            phase.set("while full");
            HttpResponse<byte[]> notReady = awaitStatus("/ready 503 while full", this::ready, s -> s == 503);
            assertTrue(text(notReady).contains(disk.dir().toString()), "names the disk: " + text(notReady));

            // clients keep adding to the full node: what their refusals cost must not eat the room deletes need
            awaitRefusals("while full", 600);
            // the disk stays full (the ballast stays): a delete must still be written, and free its space
            HttpResponse<byte[]> deleted =
                    awaitStatus("a delete while the disk is full", () -> delete("/data/old0"), s -> s == 200);
            System.out.println("FULL-DISK delete while full answered " + deleted.statusCode() + " " + millisSince(full)
                    + " ms after the disk filled");
            assertEquals(200, counted("while full", get("/data/old1")).statusCode());

            phase.set("after the ballast went");
            Files.delete(ballast);
            long emptied = System.nanoTime();
            awaitStatus("an add after the ballast went", () -> put("/data/back", small), s -> s == 202);
            long addsBack = millisSince(emptied);
            awaitStatus("/ready 200 after the ballast went", this::ready, s -> s == 200);
            long readyBack = millisSince(emptied);
            System.out.println("FULL-DISK after the ballast went: adds back in " + addsBack + " ms, /ready 200 in "
                    + readyBack + " ms");
        } finally {
            writing.set(false);
            writer.join(60_000);
            Files.deleteIfExists(ballast);
        }
        long sinceAccepted = millisSince(lastAccepted.get());
        assertTrue(sinceAccepted < 30_000, "the writer's adds came back too: last one " + sinceAccepted + " ms ago");
        for (int i = 1; i < 20; i++) {
            assertEquals(200, counted("at the end", get("/data/old" + i)).statusCode(), "old" + i);
        }
        assertEquals(404, counted("at the end", get("/data/old0")).statusCode());
    }

    /**
     * Nothing held back, and attribute updates (which the reserve does not refuse) beside the adds: the embedded H2
     * database meets the full disk itself, closes, and must be opened again by the node once the disk has room.
     */
    @Test
    void theEmbeddedMetadataStoreThatHitTheFullDiskIsOpenedAgainByItself() throws Exception {
        startNode("0");
        byte[] small = new byte[16 * 1024];
        for (int i = 0; i < 20; i++) {
            assertEquals(202, counted("before", put("/data/old" + i, small)).statusCode());
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<String> phase = new AtomicReference<>("while filling");
        AtomicInteger metadataStoreDown = new AtomicInteger();
        Thread writer = new Thread(() -> {
            for (int i = 0; writing.get(); i++) {
                try {
                    counted(phase.get(), put("/data/w" + i, small));
                    HttpResponse<byte[]> attrs = counted(
                            phase.get(),
                            http.form(
                                    "POST",
                                    node.uri("/attrs/old" + (i % 20)),
                                    "attrs=%7B%22n%22%3A%22" + i + "%22%7D"));
                    if (attrs.statusCode() == 503 && text(attrs).contains("metadata store unavailable")) {
                        metadataStoreDown.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    count(phase.get(), -1);
                }
            }
        });
        writer.start();
        Path ballast = disk.dir().resolve("ballast");
        try {
            fillWith(ballast);
            phase.set("while full");
            long deadline = System.nanoTime() + COMES_BACK_WITHIN.toNanos();
            while (metadataStoreDown.get() < 5) {
                assertTrue(System.nanoTime() < deadline, "the metadata store never met the full disk: " + counts);
                Thread.sleep(50);
            }
            HttpResponse<byte[]> notReady = awaitStatus("/ready 503 while full", this::ready, s -> s == 503);
            assertTrue(text(notReady).contains(disk.dir().toString()), "names the disk: " + text(notReady));

            phase.set("after the ballast went");
            Files.delete(ballast);
            long emptied = System.nanoTime();
            awaitStatus("a read after the ballast went", () -> get("/attrs/old1"), s -> s == 200);
            long readsBack = millisSince(emptied);
            awaitStatus("an add after the ballast went", () -> put("/data/back", small), s -> s == 202);
            long addsBack = millisSince(emptied);
            awaitStatus("/ready 200 after the ballast went", this::ready, s -> s == 200);
            System.out.println("FULL-DISK H2 closed by ENOSPC (" + metadataStoreDown.get()
                    + " answers 'metadata store unavailable'); after the ballast went: reads back in " + readsBack
                    + " ms, adds in " + addsBack + " ms, /ready 200 in " + millisSince(emptied) + " ms");
        } finally {
            writing.set(false);
            writer.join(60_000);
            Files.deleteIfExists(ballast);
        }
        for (int i = 0; i < 20; i++) {
            assertEquals(200, counted("at the end", get("/data/old" + i)).statusCode(), "old" + i);
        }
        assertEquals(202, counted("at the end", put("/data/last", small)).statusCode());
    }

    private void awaitRefusals(String phase, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (refusals(phase) < n) {
            if (System.nanoTime() > deadline) {
                fail("the writer was refused only " + refusals(phase) + " times " + phase + ": " + counts.get(phase));
            }
            Thread.sleep(50);
        }
    }

    private int refusals(String phase) {
        return counts.getOrDefault(phase, Map.of()).entrySet().stream()
                .filter(e -> e.getKey() != 202)
                .mapToInt(e -> e.getValue().get())
                .sum();
    }

    /** Writes zeros to {@code file} until the disk refuses another byte. */
    private static void fillWith(Path file) throws IOException {
        byte[] chunk = new byte[256 * 1024];
        try (FileOutputStream out = new FileOutputStream(file.toFile())) {
            while (true) {
                try {
                    out.write(chunk);
                } catch (IOException full) {
                    break;
                }
            }
            byte[] one = new byte[4096];
            while (true) {
                try {
                    out.write(one);
                } catch (IOException full) {
                    return;
                }
            }
        }
    }

    private interface Call {
        HttpResponse<byte[]> call();
    }

    private HttpResponse<byte[]> awaitStatus(String what, Call call, IntPredicate wanted) throws InterruptedException {
        long deadline = System.nanoTime() + COMES_BACK_WITHIN.toNanos();
        HttpResponse<byte[]> last = null;
        while (System.nanoTime() < deadline) {
            last = counted(what, call.call());
            if (wanted.test(last.statusCode())) {
                return last;
            }
            Thread.sleep(100);
        }
        fail(what + ": not within " + COMES_BACK_WITHIN + ", last answer "
                + (last == null ? "none" : last.statusCode() + " " + text(last)));
        return last;
    }

    private HttpResponse<byte[]> counted(String phase, HttpResponse<byte[]> r) {
        count(phase, r.statusCode());
        return r;
    }

    private void count(String phase, int status) {
        counts.computeIfAbsent(phase, p -> new ConcurrentHashMap<>())
                .computeIfAbsent(status, s -> new AtomicInteger())
                .incrementAndGet();
    }

    private HttpResponse<byte[]> put(String path, byte[] body) {
        return http.put(node.uri(path), body);
    }

    private HttpResponse<byte[]> get(String path) {
        return http.get(node.uri(path));
    }

    private HttpResponse<byte[]> delete(String path) {
        return http.method("DELETE", node.uri(path), BodyPublishers.noBody());
    }

    private HttpResponse<byte[]> ready() {
        return http.get(URI.create("http://127.0.0.1:" + node.node().settings().managementPort() + "/ready"));
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    private static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }
}
