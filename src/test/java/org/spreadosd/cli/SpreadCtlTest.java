package org.spreadosd.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;
import org.spreadosd.testing.FakeRpcServer;
import org.spreadosd.testing.FreePorts;
import picocli.CommandLine;

/** spreadctl against a fake config server (and fake data servers) over real sockets. */
class SpreadCtlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private FakeRpcServer cs;

    record Run(int status, String out, String err) {}

    @BeforeEach
    void startConfigServer() throws IOException {
        cs = new FakeRpcServer()
                .stat("fault", list())
                .stat("replset", ValueFactory.emptyMap())
                .stat("version", str("0.9.0-cs"));
    }

    @AfterEach
    void stop() throws IOException {
        cs.close();
    }

    static Run ctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd =
                new CommandLine(new SpreadCtl()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int status = cmd.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    /** spreadctl [--json] against the fake CS. */
    Run ctlCs(String... args) {
        boolean json = args.length > 0 && args[0].equals("--json");
        String[] all = new String[args.length + 1];
        int at = json ? 1 : 0;
        System.arraycopy(args, 0, all, 0, at);
        all[at] = cs.address();
        System.arraycopy(args, at, all, at + 1, args.length - at);
        return ctl(all);
    }

    // ---- msgpack values ----

    static Value str(String s) {
        return ValueFactory.newString(s);
    }

    static Value bin(String s) {
        return ValueFactory.newBinary(s.getBytes(StandardCharsets.UTF_8));
    }

    static Value num(long n) {
        return ValueFactory.newInteger(n);
    }

    static Value list(Value... vs) {
        return ValueFactory.newArray(vs);
    }

    static Value nums(long... ns) {
        Value[] vs = new Value[ns.length];
        for (int i = 0; i < ns.length; i++) {
            vs[i] = num(ns[i]);
        }
        return list(vs);
    }

    static Value node(
            long nid, String address, String name, Value rsids, String location, Function<String, Value> text) {
        return list(num(nid), text.apply(address), text.apply(name), rsids, text.apply(location));
    }

    /** Two data servers, listed out of nid order; ds1 is FAULT; set 0 is both, set 1 only ds0. */
    void twoNodes(Function<String, Value> text) {
        cs.stat(
                "nodes",
                list(
                        node(1, "10.0.0.2:18900", "ds1", nums(0), "rack-b", text),
                        node(0, "10.0.0.1:18900", "ds0", nums(0, 1), "rack-a", text)));
        cs.stat("fault", nums(1));
        cs.stat("replset", ValueFactory.newMap(num(1), list(nums(0), num(0)), num(0), list(nums(0, 1), num(10))));
    }

    static final String NODES = """
            nid  name  address         location  rsid  state   sync
            0    ds0   10.0.0.1:18900  rack-a    0,1   active  -
            1    ds1   10.0.0.2:18900  rack-b    0     FAULT   -
            """;

    static final String WEIGHTS = """
            rsid  weight  policy         nids  names
            0     10      all-reachable  0,1   ds0,ds1
            1     0       all-reachable  0     ds0
            """;

    static String lineOf(String text, String containing) {
        return text.lines().filter(l -> l.contains(containing)).findFirst().orElse("(no line with " + containing + ")");
    }

    // ---- tests ----

    @Test
    void nodesIsAnAlignedTableSortedByNidWithFaultState() {
        twoNodes(SpreadCtlTest::str);
        Run r = ctlCs("nodes");
        assertEquals(0, r.status(), r.err());
        assertEquals(NODES, r.out());
        System.out.println("SPREADCTL-NODES\n" + r.out());
    }

    @Test
    void nodesAsJson() throws IOException {
        twoNodes(SpreadCtlTest::str);
        Run r = ctlCs("--json", "nodes");
        assertEquals(0, r.status(), r.err());
        JsonNode nodes = JSON.readTree(r.out());
        assertEquals(2, nodes.size());
        JsonNode ds0 = nodes.get(0);
        assertEquals(0, ds0.get("nid").asInt());
        assertTrue(ds0.get("nid").isIntegralNumber());
        assertEquals("ds0", ds0.get("name").asText());
        assertEquals("10.0.0.1:18900", ds0.get("address").asText());
        assertEquals("rack-a", ds0.get("location").asText());
        assertEquals("0,1", ds0.get("rsid").asText());
        assertEquals("active", ds0.get("state").asText());
        assertEquals(1, nodes.get(1).get("nid").asInt());
        assertEquals("FAULT", nodes.get(1).get("state").asText());
    }

    @Test
    void oldSpecRawStringsAreAccepted() {
        twoNodes(SpreadCtlTest::bin);
        cs.answer("get_mds_uri", bin("jdbc:h2:tcp://cs:18703/mds"));
        cs.answer("remove_node", params -> {
                    throw new FakeRpcServer.Refusal("node 0 is active; stop it first");
                })
                .errorsAsBinary();
        assertEquals(NODES, ctlCs("nodes").out());
        assertEquals(WEIGHTS, ctlCs("weight").out());
        assertEquals("jdbc:h2:tcp://cs:18703/mds\n", ctlCs("mds").out());
        Run refused = ctlCs("remove_node", "0");
        assertEquals(1, refused.status());
        assertEquals("spreadctl: remove_node: node 0 is active; stop it first\n", refused.err());
    }

    @Test
    void weightTable() {
        twoNodes(SpreadCtlTest::str);
        Run r = ctlCs("weight");
        assertEquals(0, r.status(), r.err());
        assertEquals(WEIGHTS, r.out());
        System.out.println("SPREADCTL-WEIGHT\n" + r.out());
    }

    @Test
    void setWeightSendsIntegersThenShowsTheTable() {
        twoNodes(SpreadCtlTest::str);
        cs.answer("set_replset_weight", ValueFactory.newBoolean(true));
        cs.answer("reset_replset_weight", ValueFactory.newBoolean(true));
        Run r = ctlCs("set_weight", "1", "30");
        assertEquals(0, r.status(), r.err());
        assertEquals(WEIGHTS, r.out());
        List<FakeRpcServer.Call> set = cs.calls("set_replset_weight");
        assertEquals(1, set.size());
        assertEquals(List.of(num(1), num(30)), set.get(0).params());
        assertTrue(set.get(0).params().stream().allMatch(Value::isIntegerValue));

        assertEquals(0, ctlCs("reset_weight", "1").status());
        assertEquals(List.of(num(1)), cs.calls("reset_replset_weight").get(0).params());
    }

    @Test
    void removeNode() {
        cs.answer("remove_node", params -> {
            if (params.get(0).asIntegerValue().toLong() == 3) {
                throw new FakeRpcServer.Refusal("node 3 is active; stop it first");
            }
            return ValueFactory.newBoolean(true);
        });
        Run removed = ctlCs("remove_node", "2");
        assertEquals(0, removed.status(), removed.err());
        assertEquals("removed node 2\n", removed.out());
        assertEquals(List.of(num(2)), cs.calls("remove_node").get(0).params());

        Run refused = ctlCs("remove_node", "3");
        assertEquals(1, refused.status());
        assertEquals("", refused.out());
        assertEquals("spreadctl: remove_node: node 3 is active; stop it first\n", refused.err());
    }

    @Test
    void statAsksEachDataServerAndShowsDashesForOneItCannotReach() throws IOException {
        try (FakeRpcServer ds0 = dataServer("0.9.0", 120, 7, 5, 1, 42);
                ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int refused = FreePorts.next();
            cs.stat(
                    "nodes",
                    list(
                            node(0, ds0.address(), "ds0", nums(0), "a", SpreadCtlTest::str),
                            node(1, "127.0.0.1:" + refused, "ds1", nums(0), "b", SpreadCtlTest::str),
                            node(2, "127.0.0.1:" + silent.getLocalPort(), "ds2", nums(1), "c", SpreadCtlTest::str)));
            cs.stat("fault", nums(1));
            long started = System.nanoTime();
            Run r = ctlCs("--timeout", "1", "stat");
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertEquals(0, r.status(), r.err());
            System.out.println("SPREADCTL-STAT\n" + r.out());
            List<String> lines = r.out().lines().toList();
            assertEquals(
                    List.of("nid", "name", "address", "state", "uptime", "reads", "writes", "deletes", "items"),
                    List.of(lines.get(0).split(" +")));
            assertEquals(
                    List.of("0", "ds0", ds0.address(), "active", "120", "7", "5", "1", "42"),
                    List.of(lines.get(1).split(" +")));
            assertEquals(
                    List.of("1", "ds1", "127.0.0.1:" + refused, "FAULT", "-", "-", "-", "-", "-"),
                    List.of(lines.get(2).split(" +")));
            assertEquals(
                    List.of("2", "ds2", "127.0.0.1:" + silent.getLocalPort(), "active", "-", "-", "-", "-", "-"),
                    List.of(lines.get(3).split(" +")));
            assertTrue(millis < 5_000, "a silent data server costs one timeout, not more: " + millis + " ms");

            JsonNode json =
                    JSON.readTree(ctlCs("--json", "--timeout", "1", "stat").out());
            assertEquals(42, json.get(0).get("items").asLong());
            assertTrue(json.get(1).get("items").isNull());
        }
    }

    @Test
    void itemsAndVersionPerNodeWithTheConfigServerFirst() throws IOException {
        try (FakeRpcServer ds0 = dataServer("0.9.0", 1, 0, 0, 0, 3);
                FakeRpcServer ds1 = dataServer("0.8.1", 1, 0, 0, 0, 0)) {
            cs.stat(
                    "nodes",
                    list(
                            node(0, ds0.address(), "ds0", nums(0), "a", SpreadCtlTest::str),
                            node(1, ds1.address(), "ds1", nums(0), "b", SpreadCtlTest::str)));
            Run items = ctlCs("items");
            assertEquals(0, items.status(), items.err());
            assertEquals(
                    List.of("0", "ds0", ds0.address(), "3"),
                    List.of(lineOf(items.out(), "ds0").split(" +")));
            assertEquals(
                    List.of("1", "ds1", ds1.address(), "0"),
                    List.of(lineOf(items.out(), "ds1").split(" +")));

            Run version = ctlCs("version");
            assertEquals(0, version.status(), version.err());
            List<String> lines = version.out().lines().toList();
            assertEquals(
                    List.of("nid", "name", "address", "version"),
                    List.of(lines.get(0).split(" +")));
            assertEquals(
                    List.of("-", "cs", cs.address(), "0.9.0-cs"),
                    List.of(lines.get(1).split(" +")));
            assertEquals(
                    List.of("0", "ds0", ds0.address(), "0.9.0"),
                    List.of(lines.get(2).split(" +")));
            assertEquals(
                    List.of("1", "ds1", ds1.address(), "0.8.1"),
                    List.of(lines.get(3).split(" +")));
        }
    }

    static FakeRpcServer dataServer(String version, long uptime, long reads, long writes, long deletes, long items)
            throws IOException {
        return new FakeRpcServer()
                .stat("version", bin(version))
                .stat("uptime", num(uptime))
                .stat("pid", num(4242))
                .stat("cmd_read", num(reads))
                .stat("cmd_write", num(writes))
                .stat("cmd_delete", num(deletes))
                .stat("db_items", num(items));
    }

    static Value located(Value key, long vtime, long rsid, Value vname, Value... holders) {
        return list(list(key, num(vtime), num(rsid)), vname, list(holders));
    }

    static Value holder(long nid, String name, boolean held) {
        return list(num(nid), str(name), ValueFactory.newBoolean(held));
    }

    @Test
    void locateListsEveryVersionNewestFirstWithWhoHoldsIt() {
        String key = "photo-ü.jpg";
        Value k = ValueFactory.newBinary(key.getBytes(StandardCharsets.UTF_8));
        cs.answer(
                "locate",
                params -> params.get(0).asRawValue().asString().equals(key)
                        ? list(
                                located(
                                        k,
                                        1700000000123L,
                                        1,
                                        bin("v2"),
                                        holder(2, "ds2", true),
                                        holder(3, "ds3", false)),
                                located(
                                        k,
                                        1700000000045L,
                                        0,
                                        ValueFactory.newBinary(new byte[] {(byte) 0xff, 0}),
                                        holder(0, "ds0", true)),
                                located(
                                        k,
                                        1699999999999L,
                                        0,
                                        ValueFactory.newNil(),
                                        holder(0, "ds0", true),
                                        holder(1, "ds1", true)))
                        : list());
        Run r = ctlCs("locate", key);
        assertEquals(0, r.status(), r.err());
        assertEquals("""
                vtime          vname   rsid  nodes
                1700000000123  v2      1     ds2(held) ds3(missing)
                1700000000045  0xff00  0     ds0(held)
                1699999999999  -       0     ds0(held) ds1(held)
                """, r.out());
        System.out.println("SPREADCTL-LOCATE\n" + r.out());
        Value sent = cs.calls("locate").get(0).params().get(0);
        assertTrue(sent.isBinaryValue(), "the key goes as bin");
        assertArrayEquals(
                key.getBytes(StandardCharsets.UTF_8), sent.asRawValue().asByteArray());

        Run missing = ctlCs("locate", "nothing-here");
        assertEquals(1, missing.status());
        assertEquals("", missing.out());
        assertEquals("spreadctl: not found: nothing-here\n", missing.err());
    }

    @Test
    void mdsUrisAreShownWithPasswordsRedacted() {
        String[] mds = {"jdbc:postgresql://db:5432/spread?user=osd&password=secret"};
        cs.answer("get_mds_uri", params -> str(mds[0]));
        cs.answer("set_mds_uri", params -> {
            mds[0] = params.get(0).asRawValue().asString();
            return ValueFactory.newBoolean(true);
        });
        cs.answer("get_mds_cache_uri", str("mc:cache1:11211;60"));
        cs.answer("set_mds_cache_uri", ValueFactory.newBoolean(true));
        assertEquals(
                "jdbc:postgresql://db:5432/spread?user=osd&password=***\n",
                ctlCs("mds").out());
        Run set = ctlCs("set_mds", "jdbc:postgresql://db2/spread?password=hunter2&ssl=true");
        assertEquals(0, set.status(), set.err());
        assertEquals("jdbc:postgresql://db2/spread?password=***&ssl=true\n", set.out());
        assertEquals(
                List.of(str("jdbc:postgresql://db2/spread?password=hunter2&ssl=true")),
                cs.calls("set_mds_uri").get(0).params());
        assertEquals("mc:cache1:11211;60\n", ctlCs("mds_cache").out());
        assertEquals(0, ctlCs("set_mds_cache", "local:1000").status());
        assertEquals(
                List.of(str("local:1000")), cs.calls("set_mds_cache_uri").get(0).params());
        assertEquals(
                "{\"mds_cache\":\"mc:cache1:11211;60\"}\n",
                ctlCs("--json", "mds_cache").out());
    }

    @Test
    void anUnreachableConfigServerIsOneClearLineAndExitCode2() {
        int nobody = FreePorts.next();
        Run r = ctl("127.0.0.1:" + nobody, "nodes");
        assertEquals(2, r.status());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(
                r.err().startsWith("spreadctl: cannot reach the config server at 127.0.0.1:" + nobody + ": "), r.err());
    }

    @Test
    void usageMistakesExitWith2BeforeAnythingIsSent() {
        Run unknown = ctlCs("frob");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown command 'frob'"), unknown.err());
        assertTrue(unknown.err().contains("remove_node NID"), "the usage lists the commands: " + unknown.err());

        Run count = ctlCs("set_weight", "1");
        assertEquals(2, count.status());
        assertEquals("spreadctl: set_weight takes 2 arguments (RSID WEIGHT), got 1\n", count.err());
        Run extra = ctlCs("nodes", "x");
        assertEquals(2, extra.status());
        assertEquals("spreadctl: nodes takes no arguments, got 1\n", extra.err());
        Run type = ctlCs("remove_node", "three");
        assertEquals(2, type.status());
        assertEquals("spreadctl: NID must be an integer, got 'three'\n", type.err());
        assertEquals(List.of(), cs.calls(), "nothing reaches the config server");

        Run port = ctl("127.0.0.1:http", "nodes");
        assertEquals(2, port.status());
        assertEquals("spreadctl: bad config server address '127.0.0.1:http': not a port number: 'http'\n", port.err());

        Run timeout = ctlCs("--timeout", "0", "nodes");
        assertEquals(2, timeout.status());
        assertEquals("spreadctl: --timeout must be at least 1 second, got 0\n", timeout.err());

        int nobody = FreePorts.next();
        Run beforeConnecting = ctl("127.0.0.1:" + nobody, "set_weight", "x", "1");
        assertEquals("spreadctl: RSID must be an integer, got 'x'\n", beforeConnecting.err());
    }

    @Test
    void helpListsEveryCommandOnOneLine() {
        Run help = ctl("--help");
        assertEquals(0, help.status());
        assertEquals(15, SpreadCtl.SIGNATURES.size());
        SpreadCtl.SIGNATURES.forEach((command, args) -> {
            String usage = String.join(" ", command, String.join(" ", args)).strip();
            assertTrue(
                    help.out().lines().anyMatch(l -> l.matches("  " + usage + "  +\\S.*")),
                    () -> usage + " missing from --help:\n" + help.out());
        });
        assertTrue(help.out().lines().allMatch(l -> l.length() < 80), help.out());
    }
}
