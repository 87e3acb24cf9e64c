package org.spreadosd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spreadosd.ClusterIT.awaitCondition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.value.Value;
import org.spreadosd.ds.BlobStreamPaths;
import org.spreadosd.ds.DataStore;
import org.spreadosd.model.VersionId;
import org.spreadosd.rpc.RpcConnection;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.MixedLoad;
import org.spreadosd.testing.MixedLoad.Acked;
import org.spreadosd.testing.ProcessCluster;
import org.spreadosd.testing.SpreadProcess;
import org.spreadosd.testing.Tool;

/**
 * Replication within sets, on real processes: a CS, two sets of two DSs and a GW, each its own JVM on
 * loopback. Data servers die by SIGKILL under load, come back and catch up, a new member bootstraps, a
 * delete happens while a member is down, a file is damaged on disk, and a whole set goes down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class ReplicationIT {
    /** Anti-entropy and the scrub run every few seconds here instead of every 10 minutes and every day. */
    static final Map<String, String> ENV = Map.of(
            "JAVA_OPTS",
            "-Xmx192m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
                    + " -Dspreadosd.ds.replication.anti-entropy-interval=4s -Dspreadosd.ds.replication.scrub-interval=3s");

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    final int gwPort = FreePorts.base();
    final int gwHttp = FreePorts.next();
    final int[] dsPorts = {FreePorts.base(), FreePorts.base(), FreePorts.base(), FreePorts.base(), FreePorts.base()};
    final SpreadProcess[] ds = new SpreadProcess[5];
    ProcessCluster cluster;
    final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /** A request slower than this is stalled: a client's patience with a store of small objects. */
    static final Duration STALL = Duration.ofSeconds(10);

    final List<Acked> acked = new ArrayList<>();

    @BeforeAll
    void startCluster() throws Exception {
        cluster = new ProcessCluster(tmp, ENV);
        cluster.startCs();
        for (int nid = 0; nid < 4; nid++) {
            startDs(nid, nid / 2);
        }
        cluster.startGw(gwPort, gwHttp);
        cluster.awaitReady();
    }

    @AfterAll
    void stopAll() {
        cluster.stopAll();
    }

    SpreadProcess startDs(int nid, int rsid) throws IOException {
        ds[nid] = cluster.startDs(nid, rsid, dsPorts[nid]);
        return ds[nid];
    }

    Path store(int nid) {
        return cluster.store(nid);
    }

    @Test
    @Order(1)
    void aDataServerKilledUnderLoadFailsNoRequestAndLosesNoAcknowledgedWrite() throws Exception {
        long killedAt;
        long detectedAt;
        MixedLoad load = new MixedLoad(gwHttp, "kill", 4, 4, STALL);
        try (load) {
            awaitCondition("some load before the kill", () -> load.ackedCount() >= 150);
            killedAt = System.nanoTime();
            ds[1].kill();
            awaitCondition("ds1 marked FAULT", () -> state(1).equals("FAULT"));
            detectedAt = System.nanoTime();
            int ackedAtDetection = load.ackedCount();
            awaitCondition("load goes on after detection", () -> load.ackedCount() >= ackedAtDetection + 300);
        }
        System.out.printf(
                "REPLICATION-KILL: %d requests, %d adds acknowledged; %d failed, %d stalled over %d s (kill -9 to FAULT"
                        + " %.1f s)%n",
                load.requests(),
                load.ackedCount(),
                load.failed().size(),
                load.stalled().size(),
                STALL.toSeconds(),
                (detectedAt - killedAt) / 1e9);
        assertEquals(List.of(), load.failed(), "no request fails when a data server dies");
        assertEquals(List.of(), load.stalled(), "no request waits for the dead data server");
        acked.addAll(load.acked());
        assertEveryAcknowledgedAddOnEveryLiveMember();
    }

    void assertEveryAcknowledgedAddOnEveryLiveMember() throws Exception {
        for (Acked a : acked) {
            HttpResponse<byte[]> r = get(a.key());
            assertEquals(200, r.statusCode(), a.key());
            assertArrayEquals(a.data(), r.body(), a.key());
            for (int nid : liveMembers(a.rsid())) {
                assertArrayEquals(a.data(), blob(nid, a), () -> a.key() + " on ds" + nid);
            }
        }
    }

    @Test
    @Order(2)
    void theKilledMemberRestartedWithItsNidCatchesUpOnEverythingItMissed() throws Exception {
        // The default write policy gives set 0 no adds while ds1 is down (one copy is all they could get), and new
        // keys go to the whole set 1. An operator who prefers availability says so, and with set 1 taking no new
        // keys for a moment, set 0 takes single copies that ds1 must catch up on.
        assertEquals(0, spreadctl("set_policy", "0", "all-reachable:1").exitCode());
        assertEquals(0, spreadctl("set_weight", "1", "0").exitCode());
        int[] attempt = {0};
        for (int i = 0; i < 20; i++) {
            awaitCondition("set 0 takes an add with one copy", () -> {
                String key = "while-ds1-down-" + attempt[0]++;
                byte[] data = ("written while ds1 was down: " + key).getBytes(StandardCharsets.UTF_8);
                HttpResponse<String> r = put(key, data);
                if (r.statusCode() != 202) {
                    return false;
                }
                // Until the gateway has the new weights, a key may still go to set 1: acknowledged all the same.
                int rsid =
                        Integer.parseInt(r.headers().firstValue("X-Spread-Rsid").orElseThrow());
                acked.add(new Acked(
                        key,
                        Long.parseLong(r.headers().firstValue("X-Spread-Vtime").orElseThrow()),
                        rsid,
                        data));
                return rsid == 0;
            });
        }
        assertEquals(0, spreadctl("reset_weight", "1").exitCode());
        assertEquals(0, spreadctl("reset_policy", "0").exitCode());
        List<Acked> set0 = acked.stream().filter(a -> a.rsid() == 0).toList();
        startDs(1, 0).awaitLog("SpreadOSD node ready");
        long started = System.nanoTime();
        awaitCondition(
                "ds1 in sync", () -> replication(1).path("state").asText().equals("in-sync") && holdsAll(1, set0));
        double seconds = (System.nanoTime() - started) / 1e9;
        JsonNode stat = replication(1);
        long copied =
                stat.path("sets").path("0").path("0").path("copied_versions").asLong();
        long bytes = stat.path("sets").path("0").path("0").path("copied_bytes").asLong();
        System.out.printf(
                "REPLICATION-CATCHUP: ds1 copied %d versions (%d bytes) from ds0; ready to in-sync %.1f s (%.0f versions/s,"
                        + " %.2f MB/s)%n",
                copied, bytes, seconds, copied / seconds, bytes / seconds / 1e6);
        assertTrue(copied > 0, "ds1 missed the writes made while it was down: " + stat);
        for (Acked a : set0) {
            assertArrayEquals(a.data(), blob(1, a), () -> a.key() + " on ds1");
        }
        Tool.Result nodes = spreadctl("nodes");
        assertTrue(ClusterIT.lineOf(nodes.out(), "ds1").contains("in-sync"), nodes::toString);
    }

    @Test
    @Order(3)
    void aDataServerFrozenUnderLoadStallsNoRequestAndComesBackByItself() throws Exception {
        SpreadProcess frozen = ds[1];
        long thawedAt;
        MixedLoad load = new MixedLoad(gwHttp, "stop", 4, 4, STALL);
        try (load) {
            awaitCondition("some load before the freeze", () -> load.ackedCount() >= 100);
            frozen.signal("STOP");
            int ackedAtFreeze = load.ackedCount();
            // 30 s frozen: past Pekko's failure detector and the split brain resolver's stable-after, so the
            // cluster downs the member; the load must not notice either.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            awaitCondition("30 s of load while ds1 is frozen", () -> System.nanoTime() >= until);
            assertTrue(load.ackedCount() > ackedAtFreeze + 50, "adds went on while ds1 was frozen");
            frozen.signal("CONT");
            thawedAt = System.nanoTime();
            awaitCondition(
                    "ds1 active and in sync again after SIGCONT",
                    () -> state(1).equals("active")
                            && replication(1).path("state").asText().equals("in-sync"));
        }
        System.out.printf(
                "REPLICATION-SIGSTOP: %d requests, %d adds acknowledged; %d failed, %d stalled over %d s; ds1 back in"
                        + " sync %.1f s after SIGCONT%n",
                load.requests(),
                load.ackedCount(),
                load.failed().size(),
                load.stalled().size(),
                STALL.toSeconds(),
                (System.nanoTime() - thawedAt) / 1e9);
        assertEquals(List.of(), load.failed(), "no request fails while a data server is frozen");
        assertEquals(List.of(), load.stalled(), "no request waits for the frozen data server");
        acked.addAll(load.acked());
        List<Acked> set0 = acked.stream().filter(a -> a.rsid() == 0).toList();
        awaitCondition("ds1 holds every acknowledged add of its set", () -> holdsAll(1, set0));
    }

    @Test
    @Order(4)
    void aDeleteMadeWhileAMemberIsDownIsNotUndoneWhenItReturns() throws Exception {
        Acked victim = acked.stream().filter(a -> a.rsid() == 1).findFirst().orElseThrow();
        ds[3].kill();
        awaitCondition("ds3 marked FAULT", () -> state(3).equals("FAULT"));
        assertEquals(
                200,
                http.send(
                                HttpRequest.newBuilder(gwUri(victim.key()))
                                        .DELETE()
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .statusCode());
        assertEquals(404, blobStatus(2, victim));
        startDs(3, 1).awaitLog("SpreadOSD node ready");
        long roundsBefore = replication(3).path("anti_entropy_rounds").asLong();
        awaitCondition(
                "ds3 applied the delete and compared inventories since",
                () -> blobStatus(3, victim) == 404
                        && replication(3).path("anti_entropy_rounds").asLong() > roundsBefore
                        && replication(2).path("anti_entropy_rounds").asLong() > 0);
        assertEquals(404, blobStatus(2, victim), "anti-entropy did not bring it back on ds2");
        assertEquals(404, get(victim.key()).statusCode());
        acked.remove(victim);
    }

    @Test
    @Order(5)
    void aFileDamagedOnDiskIsRepairedByTheScrub() throws Exception {
        Acked victim = acked.stream().filter(a -> a.rsid() == 1).findFirst().orElseThrow();
        long repairedBefore = replication(2).path("repaired").asLong();
        Path file = DataStore.pathOf(
                store(2), new VersionId(1, victim.key().getBytes(StandardCharsets.UTF_8), victim.vtime()));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) ~victim.data()[10]}), ch.size() - victim.data().length + 10);
        }
        awaitCondition(
                "the scrub of ds2 repaired the damaged version",
                () -> replication(2).path("repaired").asLong() > repairedBefore);
        assertArrayEquals(victim.data(), blob(2, victim));
        JsonNode stat = replication(2);
        assertTrue(stat.path("scrub_damaged").asLong() >= 1, stat::toString);
    }

    @Test
    @Order(5)
    void aFileLostOnDiskComesBackThroughAntiEntropy() throws Exception {
        Acked victim =
                acked.stream().filter(a -> a.rsid() == 1).skip(1).findFirst().orElseThrow();
        long copiedBefore = replication(3).path("anti_entropy_copied").asLong();
        Files.delete(DataStore.pathOf(
                store(3), new VersionId(1, victim.key().getBytes(StandardCharsets.UTF_8), victim.vtime())));
        assertEquals(404, blobStatus(3, victim));
        awaitCondition(
                "anti-entropy on ds3 copied the lost version back",
                () -> replication(3).path("anti_entropy_copied").asLong() > copiedBefore
                        && blobStatus(3, victim) == 200);
        assertArrayEquals(victim.data(), blob(3, victim));
    }

    @Test
    @Order(6)
    void aNewMemberCopiesTheSetFromItsPeersAndShowsItsProgress() throws Exception {
        ExecutorService writers = Executors.newFixedThreadPool(8);
        List<Future<List<Acked>>> batches = new ArrayList<>();
        for (int w = 0; w < 8; w++) {
            int worker = w;
            batches.add(writers.submit(() -> {
                List<Acked> mine = new ArrayList<>();
                try (RpcConnection rpc = new RpcConnection("127.0.0.1", gwPort, 30_000)) {
                    for (int i = 0; i < 300; i++) {
                        byte[] key = ("bulk-" + worker + "-" + i).getBytes(StandardCharsets.UTF_8);
                        Value okey = rpc.call("add_data", key, key);
                        mine.add(new Acked(
                                new String(key, StandardCharsets.UTF_8),
                                okey.asArrayValue().get(1).asIntegerValue().toLong(),
                                okey.asArrayValue().get(2).asIntegerValue().toInt(),
                                key));
                    }
                }
                return mine;
            }));
        }
        for (Future<List<Acked>> b : batches) {
            acked.addAll(b.get(5, TimeUnit.MINUTES));
        }
        writers.shutdown();
        List<Acked> set0 = acked.stream().filter(a -> a.rsid() == 0).toList();
        assertTrue(set0.size() > 1000, "a few thousand objects in all, over a thousand in set 0: " + set0.size());

        startDs(4, 0).awaitLog("SpreadOSD node ready");
        long started = System.nanoTime();
        awaitCondition(
                "ds4 holds set 0",
                () -> replication(4).path("state").asText().equals("in-sync") && items(4) == items(0));
        double seconds = (System.nanoTime() - started) / 1e9;
        JsonNode stat = replication(4);
        long copied = stat.path("sets")
                        .path("0")
                        .path("0")
                        .path("copied_versions")
                        .asLong()
                + stat.path("sets").path("0").path("1").path("copied_versions").asLong();
        long bytes = stat.path("sets").path("0").path("0").path("copied_bytes").asLong()
                + stat.path("sets").path("0").path("1").path("copied_bytes").asLong();
        System.out.printf(
                "REPLICATION-BOOTSTRAP: ds4 copied %d versions (%d bytes), ready to in-sync %.1f s (%.0f versions/s,"
                        + " %.2f MB/s)%n",
                copied, bytes, seconds, copied / seconds, bytes / seconds / 1e6);
        assertTrue(copied >= set0.size(), stat::toString);
        for (Acked a : set0) {
            assertArrayEquals(a.data(), blob(4, a), () -> a.key() + " on ds4");
        }
        assertTrue(ClusterIT.lineOf(spreadctl("nodes").out(), "ds4").contains("in-sync"));
    }

    @Test
    @Order(7)
    void withBothMembersOfASetDownNewKeysGoElsewhereAndItsKeysAnswer503UntilOneReturns() throws Exception {
        Acked inSet1 = acked.stream().filter(a -> a.rsid() == 1).findFirst().orElseThrow();
        ds[2].kill();
        ds[3].kill();
        awaitCondition("ds2 and ds3 marked FAULT", () -> state(2).equals("FAULT") && state(3).equals("FAULT"));
        for (int i = 0; i < 30; i++) {
            HttpResponse<String> r = put("while-set1-down-" + i, new byte[] {1, 2, 3});
            assertEquals(202, r.statusCode(), r::body);
            assertEquals("0", r.headers().firstValue("X-Spread-Rsid").orElseThrow());
        }
        HttpResponse<byte[]> down = get(inSet1.key());
        assertEquals(503, down.statusCode());
        startDs(2, 1).awaitLog("SpreadOSD node ready");
        awaitCondition("set 1 serves again", () -> get(inSet1.key()).statusCode() == 200);
        HttpResponse<byte[]> again = get(inSet1.key());
        assertEquals(200, again.statusCode(), () -> new String(again.body(), StandardCharsets.UTF_8));
        assertArrayEquals(inSet1.data(), again.body());
    }

    // ---- helpers ----

    URI gwUri(String key) {
        return URI.create("http://127.0.0.1:" + gwHttp + "/data/" + URLEncoder.encode(key, StandardCharsets.UTF_8));
    }

    HttpResponse<String> put(String key, byte[] data) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(gwUri(key))
                        .timeout(Duration.ofSeconds(30))
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(data))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> get(String key) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(gwUri(key))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The version's bytes read straight from one member's data port, or an assertion error if it does not hold them. */
    byte[] blob(int nid, Acked a) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = blobRequest(nid, a);
        assertEquals(
                200,
                r.statusCode(),
                () -> a.key() + " on ds" + nid + ": " + new String(r.body(), StandardCharsets.UTF_8));
        return r.body();
    }

    boolean holdsAll(int nid, List<Acked> versions) throws IOException, InterruptedException {
        for (Acked a : versions) {
            if (blobRequest(nid, a).statusCode() != 200) {
                return false;
            }
        }
        return true;
    }

    int blobStatus(int nid, Acked a) throws IOException, InterruptedException {
        return blobRequest(nid, a).statusCode();
    }

    HttpResponse<byte[]> blobRequest(int nid, Acked a) throws IOException, InterruptedException {
        String url = "http://127.0.0.1:" + (dsPorts[nid] + 1000)
                + BlobStreamPaths.path(new VersionId(a.rsid(), a.key().getBytes(StandardCharsets.UTF_8), a.vtime()));
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(30))
                        .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    List<Integer> liveMembers(int rsid) {
        List<Integer> out = new ArrayList<>();
        for (int nid = 0; nid < 4; nid++) {
            if (nid / 2 == rsid && ds[nid].process.isAlive()) {
                out.add(nid);
            }
        }
        return out;
    }

    JsonNode replication(int nid) throws Exception {
        try (RpcConnection rpc = new RpcConnection("127.0.0.1", dsPorts[nid], 10_000)) {
            return JSON.readTree(rpc.call("stat", "replication").toJson());
        }
    }

    long items(int nid) throws Exception {
        try (RpcConnection rpc = new RpcConnection("127.0.0.1", dsPorts[nid], 10_000)) {
            return rpc.call("stat", "db_items").asIntegerValue().toLong();
        }
    }

    String state(int nid) throws Exception {
        return ClusterIT.state(JSON.readTree(spreadctl("--json", "nodes").out()), nid);
    }

    Tool.Result spreadctl(String... args) throws IOException, InterruptedException {
        return Tool.spreadctl(tmp, cluster.csPort, args);
    }
}
