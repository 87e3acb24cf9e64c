package org.spreadosd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spreadosd.ClusterIT.awaitCondition;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.value.Value;
import org.spreadosd.ds.BlobStreamPaths;
import org.spreadosd.model.VersionId;
import org.spreadosd.rpc.RpcConnection;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.LoopbackCut;
import org.spreadosd.testing.ProcessCluster;
import org.spreadosd.testing.SpreadProcess;
import org.spreadosd.testing.Tool;

/**
 * A network partition, on real processes: a CS, the two DSs of one replication-set and a GW, each its own JVM on
 * loopback; iptables drops every packet of one DS's cluster and data ports for 30 s (the figure). During
 * the cut no add is acknowledged with a single copy: neither one sent to the cut-off DS's own MessagePack-RPC
 * port nor one through the gateway (the default write policy needs 2 copies of a 2-member set, and the only
 * other member cannot get one). Once the rules are gone, everything acknowledged is readable through the
 * gateway and both sides take adds again, with no process restarted by hand.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class PartitionIT {
    static final Map<String, String> ENV = ReplicationIT.ENV;
    static final Duration CUT = Duration.ofSeconds(30);
    /** How long after the rules are removed everything must be readable and writable again. */
    static final Duration HEALED_WITHIN = Duration.ofSeconds(90);
    /** Adds during the cut go at about this pace, each kind: a steady client, not a flood of instant refusals. */
    static final Duration PACE = Duration.ofMillis(250);

    @TempDir
    static Path tmp;

    final int gwPort = FreePorts.base();
    final int gwHttp = FreePorts.next();
    final int[] dsPorts = {FreePorts.base(), FreePorts.base()};
    final SpreadProcess[] ds = new SpreadProcess[2];
    ProcessCluster cluster;
    final Http web = new Http();
    final Random random = new Random(13);

    record Acked(String key, String via, byte[] data) {}

    record Refused(String key, String via, String why) {}

    @BeforeAll
    void startCluster() throws Exception {
        cluster = new ProcessCluster(tmp, ENV);
        cluster.startCs();
        for (int nid = 0; nid < 2; nid++) {
            ds[nid] = cluster.startDs(nid, 0, dsPorts[nid]);
        }
        cluster.startGw(gwPort, gwHttp);
        cluster.awaitReady();
    }

    @AfterAll
    void stopAll() throws IOException {
        cluster.stopAll();
        // The processes' logs outlive the temporary directory: a partition is hard to reason about without them.
        Path keep = Path.of("target", "partition-logs");
        Files.createDirectories(keep);
        for (SpreadProcess p : cluster.started()) {
            Files.copy(p.log, keep.resolve(p.log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    @Test
    void aCutOffDataServerAcknowledgesNoSingleCopyAndEverythingIsReadableAfterTheCutHeals() throws Exception {
        List<Acked> acked = new ArrayList<>();
        List<Refused> refusedDuringCut = new ArrayList<>();
        List<Acked> ackedDuringCut = new ArrayList<>();
        List<String> singleCopies = new ArrayList<>();
        int requests = 0;

        awaitCondition(
                "both members ACTIVE",
                () -> state(0).equalsIgnoreCase("active") && state(1).equalsIgnoreCase("active"));
        for (int i = 0; i < 5; i++) {
            String key = "before-" + i;
            byte[] data = data();
            awaitCondition("gateway add " + key, () -> gwPut(key, data).statusCode() == 202);
            requests++;
            acked.add(new Acked(key, "gw", data));
        }

        long ds1Pid = ds[1].process.pid();
        int gwAddsDuringCut = 0;
        int ds1AddsDuringCut = 0;
        try (LoopbackCut cut = LoopbackCut.require()) {
            cut.cut(dsPorts[1] + 1000, dsPorts[1] + 2000);
            long cutAt = System.nanoTime();
            for (int i = 0; System.nanoTime() - cutAt < CUT.toNanos(); i++) {
                long next = cutAt + i * PACE.toNanos();
                TimeUnit.NANOSECONDS.sleep(Math.max(0, next - System.nanoTime()));
                String ownKey = "cut-ds1-" + i;
                byte[] ownData = data();
                requests++;
                ds1AddsDuringCut++;
                try (RpcConnection rpc = new RpcConnection("127.0.0.1", dsPorts[1], 30_000)) {
                    List<Value> okey =
                            rpc.call("add_data", ownKey, ownData).asArrayValue().list();
                    VersionId v = new VersionId(
                            okey.get(2).asIntegerValue().toInt(),
                            ownKey.getBytes(StandardCharsets.UTF_8),
                            okey.get(1).asIntegerValue().toLong());
                    requests++;
                    // Before ds1 sees ds0 unreachable it can still copy to ds0 (only packets to ds1's ports are
                    // dropped), and an add with both copies is what the policy asks for: ds0 must hold it now.
                    ackedDuringCut.add(new Acked(ownKey, "ds1 rpc " + v.vtime(), ownData));
                    if (blobOnDs0(v) != 200) {
                        singleCopies.add(ownKey + " vtime " + v.vtime() + " via ds1's RPC port, not on ds0");
                    }
                } catch (RpcConnection.RemoteError e) {
                    refusedDuringCut.add(new Refused(ownKey, "ds1 rpc", e.getMessage()));
                } catch (IOException e) {
                    // While the cluster has it downed and it cannot join again, the node has no RPC port open.
                    refusedDuringCut.add(new Refused(ownKey, "ds1 rpc closed", e.toString()));
                }
                String gwKey = "cut-gw-" + i;
                byte[] gwData = data();
                requests++;
                gwAddsDuringCut++;
                HttpResponse<byte[]> r = gwPut(gwKey, gwData);
                if (r.statusCode() == 202) {
                    // ds0 cannot copy to ds1 and the gateway cannot reach ds1: one copy at most.
                    ackedDuringCut.add(new Acked(gwKey, "gw", gwData));
                    singleCopies.add(gwKey + " through the gateway");
                } else {
                    refusedDuringCut.add(new Refused(gwKey, "gw " + r.statusCode(), Http.text(r)));
                }
            }
            cut.heal();
        }
        acked.addAll(ackedDuringCut);

        long healedAt = System.nanoTime();
        List<String> unreadable = new ArrayList<>(acked.stream().map(Acked::key).toList());
        while (!unreadable.isEmpty() && System.nanoTime() - healedAt < HEALED_WITHIN.toNanos()) {
            for (Acked a : acked) {
                if (unreadable.contains(a.key())) {
                    requests++;
                    HttpResponse<byte[]> r = gwGet(a.key());
                    if (r.statusCode() == 200) {
                        assertArrayEquals(a.data(), r.body(), a.key());
                        unreadable.remove(a.key());
                    }
                }
            }
            Thread.sleep(500);
        }
        double readableAfter = (System.nanoTime() - healedAt) / 1e9;

        String afterKey = "after-ds1";
        byte[] afterData = data();
        int[] afterRequests = {0};
        awaitCondition("the healed DS takes an add on its own RPC port again", () -> {
            afterRequests[0]++;
            try (RpcConnection rpc = new RpcConnection("127.0.0.1", dsPorts[1], 30_000)) {
                try {
                    rpc.call("add_data", afterKey, afterData);
                    return true;
                } catch (RpcConnection.RemoteError e) {
                    // A node left on a stale configuration (itself FAULT) refuses for good: say what it sees.
                    throw new RpcConnection.RemoteError(
                            e.getMessage() + " (ds1 sees FAULT: " + rpc.call("stat", "fault") + ")");
                }
            }
        });
        awaitCondition("the gateway takes an add again", () -> {
            afterRequests[0]++;
            return gwPut("after-gw", data()).statusCode() == 202;
        });
        awaitCondition("the healed DS's add readable through the gateway", () -> {
            afterRequests[0]++;
            HttpResponse<byte[]> r = gwGet(afterKey);
            return r.statusCode() == 200 && Arrays.equals(afterData, r.body());
        });
        requests += afterRequests[0];

        System.out.printf(
                "PARTITION: %d requests; before the cut 5 adds; during the %d s cut %d adds to ds1's RPC port and %d"
                        + " through the gateway: %d acknowledged, %d refused; every acknowledged key readable %.1f s"
                        + " after the cut healed (%d unreadable); %d requests after it%n",
                requests,
                CUT.toSeconds(),
                ds1AddsDuringCut,
                gwAddsDuringCut,
                ackedDuringCut.size(),
                refusedDuringCut.size(),
                readableAfter,
                unreadable.size(),
                afterRequests[0]);
        Map<String, Long> why = refusedDuringCut.stream()
                .collect(
                        Collectors.groupingBy(r -> r.via() + ": " + r.why().replace('\n', ' '), Collectors.counting()));
        why.forEach((reason, n) -> System.out.println("PARTITION refused " + n + " via " + reason));
        ackedDuringCut.forEach(a -> System.out.println("PARTITION acknowledged " + a.key() + " via " + a.via()));

        assertEquals(
                List.of(),
                singleCopies.stream().limit(10).toList(),
                () -> singleCopies.size() + " adds acknowledged with a single copy during the cut (first 10 shown)");
        for (Refused r : refusedDuringCut) {
            if (r.via().equals("ds1 rpc closed")) {
                continue;
            }
            // Why: this node is cut off, the write policy cannot be met, or (before the failure detector noticed, on a
            // busy host) the members in turn did not answer the gateway in time.
            assertTrue(
                    r.why().contains("cut off from the cluster")
                            || r.why().contains("write policy")
                            || r.why().contains("did not answer within"),
                    () -> r.key() + " via " + r.via() + " refused without saying why: " + r.why());
            if (r.via().startsWith("gw")) {
                assertEquals("gw 503", r.via(), r.key() + ": " + r.why());
            }
        }
        assertTrue(
                refusedDuringCut.stream()
                        .anyMatch(r -> r.via().equals("ds1 rpc") && r.why().contains("cut off")),
                () -> "the cut-off DS said so on its own RPC port at least once: " + why.keySet());
        assertEquals(List.of(), unreadable, "acknowledged keys still unreadable " + HEALED_WITHIN + " after the heal");
        assertEquals(ds1Pid, ds[1].process.pid());
        assertTrue(ds[1].process.isAlive() && ds[0].process.isAlive(), "no data server exited");
    }

    // ---- helpers ----

    byte[] data() {
        byte[] data = new byte[512 + random.nextInt(4096)];
        random.nextBytes(data);
        return data;
    }

    /** The status of ds0's data port asked for the version's bytes: 200 when it holds them. */
    int blobOnDs0(VersionId v) {
        return web.get(URI.create("http://127.0.0.1:" + (dsPorts[0] + 1000) + BlobStreamPaths.path(v)))
                .statusCode();
    }

    URI gwUri(String key) {
        return URI.create("http://127.0.0.1:" + gwHttp + "/data/" + URLEncoder.encode(key, StandardCharsets.UTF_8));
    }

    HttpResponse<byte[]> gwPut(String key, byte[] data) {
        return web.put(gwUri(key), data);
    }

    HttpResponse<byte[]> gwGet(String key) {
        return web.get(gwUri(key));
    }

    String state(int nid) throws Exception {
        return ClusterIT.state(
                new ObjectMapper()
                        .readTree(Tool.spreadctl(tmp, cluster.csPort, "--json", "nodes")
                                .out()),
                nid);
    }
}
