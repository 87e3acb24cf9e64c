package org.spreadosd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
import org.msgpack.value.ValueFactory;
import org.spreadosd.rpc.RpcConnection;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.PostgresServer;
import org.spreadosd.testing.SpreadProcess;
import org.spreadosd.testing.Tool;

/**
 * The one-host tutorial of the README as real processes started with the scripts/ commands: a CS, four
 * DSs in two replication-sets and a GW, each its own JVM on loopback. Ports are the tutorial's shape
 * (a base port per node, the others derived) on free bases. The tests run in order on one cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterIT {
    /** Small heaps and the quick JIT: seven JVMs share two cores while they start. */
    static final Map<String, String> ENV = Map.of("JAVA_OPTS", "-Xmx192m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");

    static final Duration CONDITION_TIMEOUT = Duration.ofSeconds(90);
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    final int csPort = FreePorts.base();
    final int gwPort = FreePorts.base();
    final int[] dsPorts = {FreePorts.base(), FreePorts.base(), FreePorts.base(), FreePorts.base()};
    final int ds3Http = FreePorts.next();
    final int gwHttp = FreePorts.next();
    String journalUrl;
    SpreadProcess cs;
    SpreadProcess gw;
    final SpreadProcess[] ds = new SpreadProcess[4];
    final List<SpreadProcess> started = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    @BeforeAll
    void startTheTutorialCluster() throws Exception {
        journalUrl = PostgresServer.freshDatabase("spread_journal");
        cs = startCs();
        for (int nid = 0; nid < 4; nid++) {
            ds[nid] = startDs(nid, nid / 2, dsPorts[nid], nid == 3 ? ds3Http : -1);
        }
        gw = start(
                "spread-gw",
                List.of(
                        "--cs",
                        "127.0.0.1:" + csPort,
                        "--port",
                        String.valueOf(gwPort),
                        "--http",
                        String.valueOf(gwHttp),
                        "-l",
                        "127.0.0.1",
                        "-s",
                        tmp.resolve("data-gw").toString()),
                gwHttp,
                gwPort);
        for (SpreadProcess p : started) {
            p.awaitLog("SpreadOSD node ready");
        }
    }

    @AfterAll
    void stopEverything() {
        started.forEach(SpreadProcess::stop);
    }

    SpreadProcess startCs() throws IOException {
        return start(
                "spread-cs",
                List.of(
                        "-p",
                        String.valueOf(csPort),
                        "-l",
                        "127.0.0.1",
                        "-s",
                        tmp.resolve("data-cs").toString(),
                        "--journal",
                        journalUrl),
                -1,
                csPort);
    }

    SpreadProcess startDs(int nid, int rsid, int port, int httpPort) throws IOException {
        List<String> args = new ArrayList<>(List.of(
                "--cs",
                "127.0.0.1:" + csPort,
                "--address",
                "127.0.0.1:" + port,
                "--nid",
                String.valueOf(nid),
                "--rsid",
                String.valueOf(rsid),
                "--name",
                "ds" + nid,
                "--store",
                tmp.resolve("data-ds" + nid).toString(),
                "-l",
                "127.0.0.1"));
        if (httpPort > 0) {
            args.addAll(List.of("--http", String.valueOf(httpPort)));
        }
        return start("spread-ds", args, httpPort, port);
    }

    SpreadProcess start(String script, List<String> args, int httpPort, int rpcPort) throws IOException {
        SpreadProcess p = SpreadProcess.command(tmp, script, args, ENV, httpPort, rpcPort);
        started.add(p);
        return p;
    }

    @Test
    @Order(1)
    void spreadctlListsTheFourDataServersActive() throws Exception {
        Tool.Result text = spreadctl("nodes");
        assertEquals(0, text.exitCode(), text::toString);
        for (int nid = 0; nid < 4; nid++) {
            String line = lineOf(text.out(), "ds" + nid);
            for (String cell : List.of(
                    String.valueOf(nid),
                    "127.0.0.1:" + dsPorts[nid],
                    "subnet-127.000.000",
                    String.valueOf(nid / 2),
                    "active")) {
                assertTrue(line.contains(cell), () -> "nodes row of ds lacks " + cell + ": " + text.out());
            }
        }
        JsonNode nodes = nodesJson();
        assertEquals(4, nodes.size(), nodes::toString);

        JsonNode stat = JSON.readTree(spreadctl("--json", "stat").out());
        assertEquals(4, stat.size(), stat::toString);
        stat.forEach(row ->
                assertTrue(row.path("uptime").isNumber() && row.path("items").isNumber(), stat::toString));
        Tool.Result versions = spreadctl("version");
        assertEquals(
                6,
                versions.out()
                        .lines()
                        .filter(l -> !l.isBlank() && !l.endsWith(" -"))
                        .count(),
                versions::toString);
    }

    @Test
    @Order(2)
    void httpAndRpcWorkThroughTheGatewayAndEveryDataServer() throws Exception {
        assertEquals(202, put(gwHttp, "via-gw", "through the gateway").statusCode());
        HttpResponse<String> read = get(ds3Http, "via-gw");
        assertEquals(200, read.statusCode(), read::body);
        assertEquals("through the gateway", read.body());
        for (int nid = 0; nid < 4; nid++) {
            try (RpcConnection rpc = new RpcConnection("127.0.0.1", dsPorts[nid], 30_000)) {
                rpc.call(
                        "add",
                        ("rpc-" + nid).getBytes(StandardCharsets.UTF_8),
                        ("data " + nid).getBytes(StandardCharsets.UTF_8),
                        ValueFactory.emptyMap());
            }
        }
        try (RpcConnection rpc = new RpcConnection("127.0.0.1", gwPort, 30_000)) {
            for (int nid = 0; nid < 4; nid++) {
                Value data = rpc.call("get_data", ("rpc-" + nid).getBytes(StandardCharsets.UTF_8));
                assertEquals("data " + nid, data.asRawValue().asString());
            }
        }
    }

    @Test
    @Order(3)
    void weightsSteerNewKeys() throws Exception {
        assertEquals(0, spreadctl("set_weight", "1", "0").exitCode());
        awaitGatewayWeights(Map.of(0L, 10L, 1L, 0L));
        Map<Long, Integer> none = placeKeys("w0-", 20);
        assertEquals(Map.of(0L, 20), none, "weight 0 stops new keys on set 1");

        assertEquals(0, spreadctl("set_weight", "1", "30").exitCode());
        awaitGatewayWeights(Map.of(0L, 10L, 1L, 30L));
        Path copy = tmp.resolve("data-gw").resolve("cluster-config.json");
        awaitCondition(
                "the gateway's copy of the configuration on its disk has weight 30",
                () -> JSON.readTree(copy.toFile()).path("weights").path("1").asInt() == 30);
        Map<Long, Integer> counts = placeKeys("w30-", 80);
        int inSet1 = counts.getOrDefault(1L, 0);
        assertTrue(
                inSet1 >= 54 && inSet1 <= 66,
                () -> "set 1 (weight 30 of 40) should get about 60 of 80 new keys: " + counts);

        JsonNode weights = JSON.readTree(spreadctl("--json", "weight").out());
        assertTrue(weights.toString().matches(".*\\{\"rsid\":1,\"weight\":30,.*"), weights::toString);
        assertEquals(0, spreadctl("reset_weight", "1").exitCode());
        awaitGatewayWeights(Map.of(0L, 10L, 1L, 10L));
        System.out.println("SPREADCTL-WEIGHT\n" + spreadctl("weight").out());
    }

    @Test
    @Order(4)
    void locateShowsEveryVersionAndWhoHoldsIt() throws Exception {
        assertEquals(202, put(gwHttp, "photo.jpg", "version one").statusCode());
        assertEquals(202, put(gwHttp, "photo.jpg", "version two").statusCode());
        Tool.Result located = spreadctl("locate", "photo.jpg");
        assertEquals(0, located.exitCode(), located::toString);
        System.out.println("SPREADCTL-LOCATE\n" + located.out());
        List<String> rows =
                located.out().lines().filter(l -> l.matches("\\s*\\d{6,}\\s.*")).toList();
        assertEquals(2, rows.size(), located::toString);
        assertTrue(rows.stream().allMatch(r -> r.contains("held")), located::toString);
        assertEquals(1, spreadctl("locate", "no-such-key").exitCode());
    }

    @Test
    @Order(5)
    void aDataServerRestartedWithItsNidOnANewPortTakesItsOldPlace() throws Exception {
        List<String> keys = new ArrayList<>();
        try (RpcConnection rpc = new RpcConnection("127.0.0.1", gwPort, 30_000)) {
            for (int i = 0; keys.size() < 12 && i < 200; i++) {
                byte[] key = ("restart-" + i).getBytes(StandardCharsets.UTF_8);
                Value okey = rpc.call("add", key, key, ValueFactory.emptyMap());
                if (okey.asArrayValue().get(2).asIntegerValue().toInt() == 0) {
                    keys.add("restart-" + i);
                }
            }
        }
        assertTrue(ds[1].terminate(), "ds1 stops on SIGTERM");
        awaitNodes(n -> state(n, 1).equals("FAULT"), "ds1 FAULT");
        for (String k : keys) {
            HttpResponse<String> r = get(gwHttp, k);
            assertEquals(200, r.statusCode(), () -> "set 0 serves " + k + " from ds0 while ds1 is down: " + r.body());
        }

        int newPort = FreePorts.base();
        ds[1] = startDs(1, 0, newPort, -1);
        ds[1].awaitLog("SpreadOSD node ready");
        awaitNodes(
                n -> state(n, 1).equals("active")
                        && row(n, 1).path("address").asText().equals("127.0.0.1:" + newPort),
                "ds1 active at its new address");
        for (String k : keys) {
            HttpResponse<String> r = get(gwHttp, k);
            assertEquals(200, r.statusCode(), () -> k + ": " + r.body());
        }
        System.out.println("SPREADCTL-NODES\n" + spreadctl("nodes").out());
    }

    @Test
    @Order(6)
    void aNidHeldByALiveNodeIsRefused() throws Exception {
        SpreadProcess impostor = startDs(0, 0, FreePorts.base(), -1);
        assertEquals(2, impostor.awaitExit(), impostor::log);
        assertTrue(impostor.log().contains("nid 0 is held by the live node ds0"), impostor::log);
        assertEquals("active", state(nodesJson(), 0));
    }

    @Test
    @Order(7)
    void theClusterServesWithTheConfigServerStoppedAndARestartedOneRebuildsTheSameConfiguration() throws Exception {
        String mdsUrl = PostgresServer.freshDatabase("spread_mds");
        assertEquals(0, spreadctl("set_mds", mdsUrl).exitCode());
        awaitCondition(
                "the gateway writes to the new metadata store",
                () -> put(gwHttp, "after-switch", "x").statusCode() == 202 && countRows(mdsUrl) > 0);
        JsonNode before = nodesJson();
        String weightsBefore = spreadctl("weight").out();

        assertTrue(cs.terminate(), "the CS stops on SIGTERM");
        assertEquals(202, put(gwHttp, "cs-down", "written while no CS runs").statusCode());
        assertEquals("written while no CS runs", get(ds3Http, "cs-down").body());
        assertEquals("x", get(gwHttp, "after-switch").body());

        cs = startCs();
        cs.awaitLog("SpreadOSD node ready");
        assertEquals(before, nodesJson(), "the journal rebuilds the same nodes");
        assertEquals(weightsBefore, spreadctl("weight").out());
        Tool.Result mds = spreadctl("mds");
        assertTrue(mds.out().contains(mdsUrl.split("\\?")[0]), mds::toString);
        assertEquals(0, spreadctl("set_weight", "0", "7").exitCode());
        awaitGatewayWeights(Map.of(0L, 7L, 1L, 10L));
    }

    @Test
    @Order(8)
    void aStoppedDataServerIsRemovedWhileAnActiveOneIsNot() throws Exception {
        Tool.Result refused = spreadctl("remove_node", "0");
        assertEquals(1, refused.exitCode(), refused::toString);
        assertTrue(refused.stderr().contains("node 0 is active; stop it first"), refused::toString);

        assertTrue(ds[1].terminate(), "ds1 stops on SIGTERM");
        awaitNodes(n -> state(n, 1).equals("FAULT"), "ds1 FAULT");
        Tool.Result removed = spreadctl("remove_node", "1");
        assertEquals(0, removed.exitCode(), removed::toString);
        JsonNode nodes = nodesJson();
        assertEquals(3, nodes.size(), nodes::toString);
        assertEquals("", state(nodes, 1), "ds1 is gone from the configuration");
        assertEquals(202, put(gwHttp, "after-removal", "set 0 goes on with ds0").statusCode());
        assertEquals("set 0 goes on with ds0", get(gwHttp, "after-removal").body());
    }

    @Test
    @Order(9)
    void aGatewayWhoseConfigServerIsUnreachableRefusesToStart() throws Exception {
        Map<String, String> env = new HashMap<>(ENV);
        env.put("JAVA_OPTS", ENV.get("JAVA_OPTS") + " -Dspreadosd.startup-timeout=10s");
        int nobody = FreePorts.base();
        SpreadProcess lost = SpreadProcess.command(
                tmp,
                "spread-gw",
                List.of(
                        "--cs",
                        "127.0.0.1:" + nobody,
                        "-p",
                        String.valueOf(FreePorts.base()),
                        "-l",
                        "127.0.0.1",
                        "-s",
                        tmp.resolve("lost-gw").toString()),
                env,
                -1,
                -1);
        started.add(lost);
        assertEquals(2, lost.awaitExit(), lost::log);
        assertTrue(
                lost.log().contains("cannot join the cluster through the config server at 127.0.0.1:" + nobody),
                lost::log);
    }

    // ---- helpers ----

    Tool.Result spreadctl(String... args) throws IOException, InterruptedException {
        return Tool.spreadctl(tmp, csPort, args);
    }

    JsonNode nodesJson() throws Exception {
        Tool.Result r = spreadctl("--json", "nodes");
        assertEquals(0, r.exitCode(), r::toString);
        return JSON.readTree(r.out());
    }

    static JsonNode row(JsonNode nodes, int nid) {
        for (JsonNode n : nodes) {
            if (n.path("nid").asInt(-1) == nid) {
                return n;
            }
        }
        return JSON.createObjectNode();
    }

    static String state(JsonNode nodes, int nid) {
        return row(nodes, nid).path("state").asText();
    }

    void awaitNodes(Predicate<JsonNode> condition, String what) throws Exception {
        awaitCondition(what, () -> condition.test(nodesJson()));
    }

    /** Waits until the gateway's configuration shows these set weights: the CS has told it. */
    void awaitGatewayWeights(Map<Long, Long> weights) throws Exception {
        awaitCondition("gateway weights " + weights, () -> {
            try (RpcConnection rpc = new RpcConnection("127.0.0.1", gwPort, 10_000)) {
                Map<Long, Long> seen = new HashMap<>();
                rpc.call("stat", "replset")
                        .asMapValue()
                        .map()
                        .forEach((rsid, v) -> seen.put(
                                rsid.asIntegerValue().toLong(),
                                v.asArrayValue().get(1).asIntegerValue().toLong()));
                return seen.equals(weights);
            }
        });
    }

    Map<Long, Integer> placeKeys(String prefix, int n) throws IOException {
        Map<Long, Integer> counts = new HashMap<>();
        try (RpcConnection rpc = new RpcConnection("127.0.0.1", gwPort, 30_000)) {
            for (int i = 0; i < n; i++) {
                byte[] key = (prefix + i).getBytes(StandardCharsets.UTF_8);
                Value okey = rpc.call("add_data", key, key);
                counts.merge(okey.asArrayValue().get(2).asIntegerValue().toLong(), 1, Integer::sum);
            }
        }
        return counts;
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    static void awaitCondition(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + CONDITION_TIMEOUT.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(250);
        }
        fail("timed out waiting for: " + what + (last == null ? "" : " (last error: " + last + ")"));
    }

    static long countRows(String jdbcUrl) throws Exception {
        try (Connection c = DriverManager.getConnection(jdbcUrl);
                ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM spread_version")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String lineOf(String table, String name) {
        return table.lines()
                .filter(l -> l.contains(" " + name + " ") || l.endsWith(" " + name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + name + " in:\n" + table));
    }

    HttpResponse<String> put(int port, String key, String body) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/data/" + key))
                        .timeout(Duration.ofSeconds(30))
                        .PUT(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(int port, String key) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/data/" + key))
                        .timeout(Duration.ofSeconds(30))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
