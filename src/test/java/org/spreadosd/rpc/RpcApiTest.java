package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.msgpack.value.Value;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.StandaloneNodeExtension;

/** MessagePack-RPC over a real socket against a started standalone.node(). */
class RpcApiTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone =
            new StandaloneNodeExtension(Map.of("spreadosd.rpc.max-message-size", "1 MiB"));

    static final AtomicLong ids = new AtomicLong();

    interface Params {
        void write(MessagePacker p) throws IOException;
    }

    static Value call(RpcClient c, String method, boolean newSpec, Params params) throws IOException {
        long id = ids.incrementAndGet();
        c.send(RpcClient.request(id, method, newSpec, p -> {
            try {
                params.write(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
        Value r = c.receive();
        List<Value> parts = r.asArrayValue().list();
        assertEquals(1, parts.get(0).asIntegerValue().toInt());
        assertEquals(id, parts.get(1).asIntegerValue().toLong());
        return r;
    }

    static Value result(Value response) {
        List<Value> parts = response.asArrayValue().list();
        assertTrue(parts.get(2).isNilValue(), "error: " + parts.get(2));
        return parts.get(3);
    }

    static String error(Value response) {
        List<Value> parts = response.asArrayValue().list();
        assertTrue(parts.get(3).isNilValue());
        return parts.get(2).asStringValue().asString();
    }

    static byte[] bytes(Value v) {
        return v.isBinaryValue()
                ? v.asBinaryValue().asByteArray()
                : v.asStringValue().asByteArray();
    }

    static void raws(MessagePacker p, String... values) throws IOException {
        p.packArrayHeader(values.length);
        for (String v : values) {
            p.packString(v);
        }
    }

    @Test
    void addDeleteAddOfOneKeyFiftyTimesEveryAddAnsweredAndReadable() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            long previous = 0;
            for (int round = 0; round < 50; round++) {
                String data = "round " + round;
                List<Value> okey = result(call(c, "add_data", true, p -> raws(p, "again", data)))
                        .asArrayValue()
                        .list();
                long vtime = okey.get(1).asIntegerValue().toLong();
                assertTrue(vtime > previous, "round " + round + ": a vtime was reused");
                previous = vtime;
                assertEquals(data, utf8(bytes(result(call(c, "get_data", true, p -> raws(p, "again"))))));
                assertTrue(result(call(c, "delete", true, p -> raws(p, "again")))
                        .asBooleanValue()
                        .getBoolean());
                assertTrue(
                        result(call(c, "get_data", true, p -> raws(p, "again"))).isNilValue());
            }
        }
    }

    @Test
    void addThenReadEveryWay() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            Value okey = result(call(c, "add", true, p -> {
                p.packArrayHeader(3).packString("rk");
                p.packBinaryHeader(5).writePayload("hello".getBytes());
                p.packMapHeader(1).packString("type").packString("txt");
            }));
            List<Value> ok = okey.asArrayValue().list();
            assertEquals("rk", new String(bytes(ok.get(0))));
            long vtime = ok.get(1).asIntegerValue().toLong();
            Value v2 = result(call(c, "addv", true, p -> {
                p.packArrayHeader(4).packString("v2").packString("rk");
                p.packBinaryHeader(5).writePayload("world".getBytes());
                p.packMapHeader(0);
            }));
            assertTrue(v2.asArrayValue().get(1).asIntegerValue().toLong() > vtime);

            List<Value> got = result(call(c, "get", true, p -> raws(p, "rk")))
                    .asArrayValue()
                    .list();
            assertEquals("world", new String(bytes(got.get(0))));
            assertEquals("hello", new String(bytes(result(call(c, "gett_data", true, p -> {
                p.packArrayHeader(2).packLong(vtime).packString("rk");
            })))));
            assertEquals("world", new String(bytes(result(call(c, "getv_data", true, p -> raws(p, "v2", "rk"))))));
            assertEquals(
                    "txt",
                    utf8(bytes(result(call(
                                    c,
                                    "gett_attrs",
                                    true,
                                    p -> p.packArrayHeader(2).packLong(vtime).packString("rk")))
                            .asMapValue()
                            .map()
                            .values()
                            .iterator()
                            .next())));
            assertEquals(
                    "ell",
                    new String(bytes(result(call(
                            c,
                            "readt",
                            true,
                            p -> p.packArrayHeader(4)
                                    .packLong(vtime)
                                    .packString("rk")
                                    .packInt(1)
                                    .packInt(3))))));
            assertEquals(
                    "ld",
                    new String(bytes(result(call(
                            c,
                            "read",
                            true,
                            p -> p.packArrayHeader(3)
                                    .packString("rk")
                                    .packInt(3)
                                    .packInt(100))))),
                    "shorter at the end");
            assertEquals("hello", new String(bytes(result(call(c, "getd_data", true, p -> {
                p.packArrayHeader(1)
                        .packArrayHeader(3)
                        .packString("rk")
                        .packLong(vtime)
                        .packInt(ok.get(2).asIntegerValue().toInt());
            })))));
            List<Value> located = result(call(c, "util_locate", true, p -> raws(p, "rk")))
                    .asArrayValue()
                    .list();
            assertEquals(2, located.size());
            for (Value v : located) {
                assertEquals("[0]", v.asArrayValue().get(2).toJson(), "the nids that hold the bytes: " + v);
            }
            assertTrue(new String(bytes(result(call(c, "url", true, p -> raws(p, "rk"))))).contains("/direct/0/"));

            List<Value> missing = result(call(c, "get", true, p -> raws(p, "nope")))
                    .asArrayValue()
                    .list();
            assertTrue(missing.get(0).isNilValue() && missing.get(1).isNilValue());
            assertTrue(result(call(c, "get_data", true, p -> raws(p, "nope"))).isNilValue());
            assertTrue(result(call(
                            c,
                            "getd_data",
                            true,
                            p -> p.packArrayHeader(1)
                                    .packArrayHeader(3)
                                    .packString("nope")
                                    .packLong(1)
                                    .packInt(0)))
                    .isNilValue());

            assertTrue(result(call(c, "deletev", true, p -> raws(p, "v2", "rk")))
                    .asBooleanValue()
                    .getBoolean());
            assertFalse(result(call(c, "deletev", true, p -> raws(p, "v2", "rk")))
                    .asBooleanValue()
                    .getBoolean());
            assertTrue(result(call(c, "remove", true, p -> raws(p, "rk")))
                    .asBooleanValue()
                    .getBoolean());
            assertTrue(result(call(c, "get_data", true, p -> raws(p, "rk"))).isNilValue());
            assertFalse(result(call(c, "remove", true, p -> raws(p, "rk")))
                    .asBooleanValue()
                    .getBoolean());
        }
    }

    @Test
    void everyOtherMethodFoundAndNotFound() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            List<Value> k1 = result(call(c, "addv_data", false, p -> raws(p, "n1", "mk", "first")))
                    .asArrayValue()
                    .list();
            long t1 = k1.get(1).asIntegerValue().toLong();
            result(call(c, "addv", false, p -> {
                p.packArrayHeader(4).packString("n2").packString("mk").packString("second");
                p.packMapHeader(1).packString("a").packString("1");
            }));
            List<Value> byName = result(call(c, "getv", false, p -> raws(p, "n1", "mk")))
                    .asArrayValue()
                    .list();
            assertEquals("first", utf8(bytes(byName.get(0))));
            assertEquals(0, byName.get(1).asMapValue().size());
            assertTrue(result(call(c, "getv", false, p -> raws(p, "zz", "mk")))
                    .asArrayValue()
                    .get(0)
                    .isNilValue());
            assertEquals(
                    "first",
                    utf8(bytes(result(call(
                                    c,
                                    "gett",
                                    false,
                                    p -> p.packArrayHeader(2).packLong(t1).packString("mk")))
                            .asArrayValue()
                            .get(0))));
            assertTrue(result(call(
                            c,
                            "gett",
                            false,
                            p -> p.packArrayHeader(2).packLong(t1 - 1).packString("mk")))
                    .asArrayValue()
                    .get(0)
                    .isNilValue());
            assertEquals(
                    1,
                    result(call(c, "getv_attrs", false, p -> raws(p, "n2", "mk")))
                            .asMapValue()
                            .size());
            assertTrue(result(call(c, "getv_attrs", false, p -> raws(p, "zz", "mk")))
                    .isNilValue());
            assertEquals(
                    1,
                    result(call(c, "get_attrs", false, p -> raws(p, "mk")))
                            .asMapValue()
                            .size());
            assertTrue(result(call(c, "get_attrs", false, p -> raws(p, "nope"))).isNilValue());
            assertTrue(result(call(
                            c,
                            "gett_attrs",
                            false,
                            p -> p.packArrayHeader(2).packLong(1).packString("mk")))
                    .isNilValue());
            assertEquals("eco", utf8(bytes(result(call(c, "readv", false, p -> {
                p.packArrayHeader(4)
                        .packString("n2")
                        .packString("mk")
                        .packInt(1)
                        .packInt(3);
            })))));
            assertTrue(result(call(
                            c,
                            "readv",
                            false,
                            p -> p.packArrayHeader(4)
                                    .packString("zz")
                                    .packString("mk")
                                    .packInt(0)
                                    .packInt(1)))
                    .isNilValue());
            assertEquals("irs", utf8(bytes(result(call(c, "readd", false, p -> {
                p.packArrayHeader(3)
                        .packArrayHeader(3)
                        .packString("mk")
                        .packLong(t1)
                        .packInt(0)
                        .packInt(1)
                        .packInt(3);
            })))));
            assertTrue(result(call(c, "readd", false, p -> {
                        p.packArrayHeader(3)
                                .packArrayHeader(3)
                                .packString("mk")
                                .packLong(t1 - 1)
                                .packInt(0)
                                .packInt(0)
                                .packInt(3);
                    }))
                    .isNilValue());
            assertTrue(result(call(
                            c,
                            "readt",
                            false,
                            p -> p.packArrayHeader(4)
                                    .packLong(1)
                                    .packString("mk")
                                    .packInt(0)
                                    .packInt(1)))
                    .isNilValue());
            assertTrue(result(call(
                            c,
                            "read",
                            false,
                            p -> p.packArrayHeader(3)
                                    .packString("nope")
                                    .packInt(0)
                                    .packInt(1)))
                    .isNilValue());
            assertEquals(
                    "",
                    utf8(bytes(result(call(
                            c,
                            "read",
                            false,
                            p -> p.packArrayHeader(3)
                                    .packString("mk")
                                    .packInt(100)
                                    .packInt(1))))),
                    "an offset past the end reads nothing");

            List<Value> updated = result(call(c, "update_attrs", false, p -> {
                        p.packArrayHeader(2)
                                .packString("mk")
                                .packMapHeader(1)
                                .packString("b")
                                .packString("2");
                    }))
                    .asArrayValue()
                    .list();
            assertEquals("mk", utf8(bytes(updated.get(0))));
            assertTrue(result(call(
                            c,
                            "update_attrs",
                            false,
                            p -> p.packArrayHeader(2).packString("nope").packMapHeader(0)))
                    .isNilValue());

            assertTrue(utf8(bytes(result(call(
                            c,
                            "urlt",
                            false,
                            p -> p.packArrayHeader(2).packLong(t1).packString("mk")))))
                    .contains("/" + t1 + "/mk"));
            assertTrue(utf8(bytes(result(call(c, "urlv", false, p -> raws(p, "n1", "mk")))))
                    .contains("/" + t1 + "/mk"));
            assertTrue(result(call(c, "urlv", false, p -> raws(p, "zz", "mk"))).isNilValue());
            assertTrue(result(call(c, "url", false, p -> raws(p, "nope"))).isNilValue());
            assertEquals(
                    0,
                    result(call(c, "util_locate", false, p -> raws(p, "nope")))
                            .asArrayValue()
                            .size());

            assertTrue(result(call(
                            c,
                            "deletet",
                            false,
                            p -> p.packArrayHeader(2).packLong(t1).packString("mk")))
                    .asBooleanValue()
                    .getBoolean());
            assertFalse(result(call(
                            c,
                            "deletet",
                            false,
                            p -> p.packArrayHeader(2).packLong(t1 - 1).packString("mk")))
                    .asBooleanValue()
                    .getBoolean());
            assertTrue(result(call(c, "delete", false, p -> raws(p, "mk")))
                    .asBooleanValue()
                    .getBoolean());
            assertFalse(result(call(c, "delete", false, p -> raws(p, "mk")))
                    .asBooleanValue()
                    .getBoolean());
        }
    }

    @Test
    void statAnswersEveryCmd() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            for (String cmd : List.of("uptime", "time", "pid", "db_items", "cmd_read", "cmd_write", "cmd_delete")) {
                assertTrue(
                        result(call(c, "stat", true, p -> raws(p, cmd)))
                                        .asIntegerValue()
                                        .toLong()
                                >= 0,
                        cmd);
            }
            assertTrue(result(call(c, "stat", true, p -> raws(p, "version"))).isStringValue());
            assertTrue(result(call(c, "stat", true, p -> raws(p, "cs_address"))).isStringValue());
            List<Value> nodes = result(call(c, "stat", true, p -> raws(p, "nodes")))
                    .asArrayValue()
                    .list();
            assertEquals(1, nodes.size());
            assertEquals(5, nodes.get(0).asArrayValue().size(), "[nid, address, name, rsids, location]");
            assertEquals(
                    0,
                    result(call(c, "stat", true, p -> raws(p, "fault")))
                            .asArrayValue()
                            .size());
            var replset = result(call(c, "stat", true, p -> raws(p, "replset")))
                    .asMapValue()
                    .map();
            assertEquals(1, replset.size(), "rsid 0 -> [nids, weight]");
        }
    }

    @Test
    void errorsAreAnswersNotDroppedConnections() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            assertTrue(error(call(c, "frobnicate", true, p -> raws(p))).contains("unknown method 'frobnicate'"));
            assertTrue(error(call(c, "get", true, p -> raws(p, "a", "b")))
                    .contains("wrong number of arguments for get: expected 1, got 2"));
            assertTrue(error(call(c, "gett", true, p -> raws(p, "x", "k")))
                    .contains("argument 1 of gett must be an integer"));
            assertTrue(error(call(
                            c,
                            "read",
                            true,
                            p -> p.packArrayHeader(3)
                                    .packString("k")
                                    .packInt(-1)
                                    .packInt(3)))
                    .contains("must not be negative"));
            assertTrue(error(call(
                            c,
                            "add",
                            true,
                            p -> p.packArrayHeader(3)
                                    .packString("k")
                                    .packString("d")
                                    .packInt(5)))
                    .contains("must be a map"));
            assertTrue(error(call(c, "stat", true, p -> raws(p, "bogus"))).contains("unknown stat cmd 'bogus'"));
            assertTrue(
                    result(call(c, "stat", true, p -> raws(p, "pid")))
                                    .asIntegerValue()
                                    .toLong()
                            > 0,
                    "still answering");
        }
    }

    @Test
    void anOversizedMessageIsAnsweredWithAnErrorNotRead() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            byte[] message = RpcClient.request(
                    99,
                    "add_data",
                    true,
                    p -> uncheck(() -> {
                        p.packArrayHeader(2).packString("too-big");
                        p.packBinaryHeader(2 << 20).writePayload(new byte[2 << 20]);
                    }));
            c.send(Arrays.copyOf(message, 1000));
            List<Value> answer = c.receive().asArrayValue().list();
            assertEquals(99, answer.get(1).asIntegerValue().toLong());
            assertTrue(
                    answer.get(2).asStringValue().asString().contains("larger than the maximum of 1048576 bytes"),
                    answer.toString());
            assertClosed(c, "refused from its header: the server answers and closes without waiting for the body");
        }
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            assertTrue(
                    result(call(c, "get_data", true, p -> raws(p, "too-big"))).isNilValue(), "nothing was stored");
        }
    }

    @Test
    void pipelinedRequestsAreAllAnsweredByMsgid() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            ByteString all = ByteString.emptyByteString();
            Set<Long> sent = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                long id = 10_000 + i;
                sent.add(id);
                String key = "pipe" + (i % 10);
                byte[] req = i % 2 == 0
                        ? RpcClient.request(
                                id,
                                "add_data",
                                true,
                                p -> uncheck(() ->
                                        p.packArrayHeader(2).packString(key).packString("v")))
                        : RpcClient.request(
                                id,
                                "get_attrs",
                                true,
                                p -> uncheck(() -> p.packArrayHeader(1).packString(key)));
                all = all.concat(ByteString.fromArray(req));
            }
            c.send(all.toArray());
            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                List<Value> r = c.receive().asArrayValue().list();
                assertTrue(r.get(2).isNilValue(), r.toString());
                answered.add(r.get(1).asIntegerValue().toLong());
            }
            assertEquals(sent, answered);
        }
    }

    @Test
    void notificationsRunWithoutAnAnswer() throws Exception {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            try (var p = MessagePack.newDefaultBufferPacker()) {
                p.packArrayHeader(3)
                        .packInt(2)
                        .packString("add_data")
                        .packArrayHeader(2)
                        .packString("notified")
                        .packString("yes");
                c.send(p.toByteArray());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Value data;
            do {
                data = result(call(c, "get_data", true, p -> raws(p, "notified")));
            } while (data.isNilValue() && System.nanoTime() < deadline);
            assertEquals(
                    "yes",
                    utf8(bytes(data)),
                    "the notification's add ran; the first answer on the connection was to get_data");
        }
    }

    @Test
    void aRequestSplitByteByByte() throws Exception {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            byte[] req = RpcClient.request(
                    7, "stat", true, p -> uncheck(() -> p.packArrayHeader(1).packString("version")));
            for (byte b : req) {
                c.send(new byte[] {b});
            }
            assertEquals(7, c.receive().asArrayValue().get(1).asIntegerValue().toLong());
        }
    }

    @Test
    void oldSpecClientsGetOldSpecAnswers() throws IOException {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            c.send(RpcClient.request(
                    1,
                    "add_data",
                    false,
                    p -> uncheck(() -> {
                        p.packArrayHeader(2).packRawStringHeader(3).writePayload("old".getBytes());
                        p.packRawStringHeader(40).writePayload(new byte[40]);
                    })));
            c.receive();
            c.send(RpcClient.request(
                    2,
                    "get_data",
                    false,
                    p -> uncheck(
                            () -> p.packArrayHeader(1).packRawStringHeader(3).writePayload("old".getBytes()))));
            byte[] raw = readRaw(c, 4 + 3 + 40);
            for (byte b : raw) {
                int t = b & 0xff;
                assertFalse(
                        t == 0xd9 || (t >= 0xc4 && t <= 0xc6),
                        String.format("new-spec type 0x%02x in an old-spec answer", t));
            }
            assertEquals(0xda, raw[4] & 0xff, "40 bytes of data as raw16, not str8 or bin8");
        }
    }

    @Test
    void garbageClosesOnlyItsOwnConnection() throws Exception {
        try (RpcClient good = new RpcClient(standalone.node().rpcPort());
                RpcClient bad = new RpcClient(standalone.node().rpcPort())) {
            bad.send(new byte[] {(byte) 0xc1, 1, 2, 3});
            assertClosed(bad, "the garbage connection is closed");
            try (RpcClient shape = new RpcClient(standalone.node().rpcPort())) {
                shape.send(new byte[] {(byte) 0x93, 5, 5, 5});
                assertClosed(shape, "a wrong message shape closes too");
            }
            assertTrue(result(call(good, "stat", true, p -> raws(p, "time")))
                            .asIntegerValue()
                            .toLong()
                    > 0);
        }
    }

    /** The server closed the connection: end of stream, or a reset when it aborted with unread input. */
    private static void assertClosed(RpcClient c, String why) {
        try {
            assertEquals(-1, c.socket().getInputStream().read(), why);
        } catch (SocketException reset) {
            assertTrue(String.valueOf(reset.getMessage()).contains("reset"), why + ": " + reset);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] readRaw(RpcClient c, int atLeast) throws IOException {
        byte[] buf = new byte[4096];
        int n = 0;
        while (n < atLeast) {
            int r = c.socket().getInputStream().read(buf, n, buf.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return Arrays.copyOf(buf, n);
    }

    interface IoAction {
        void run() throws IOException;
    }

    static void uncheck(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
