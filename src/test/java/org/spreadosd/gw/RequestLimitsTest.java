package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spreadosd.testing.Http.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.core.MessagePacker;
import org.msgpack.value.Value;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * The limits of spreadosd.limits.* over both APIs of a real node: every oversized key, vname, attributes or
 * content type is answered with an error that names the limit and its setting, and stores nothing (no version
 * file, no update-log record).
 */
class RequestLimitsTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    static final Http http = new Http();
    static final AtomicLong ids = new AtomicLong();

    static final byte[] LONG_KEY = "k".repeat(3000).getBytes(StandardCharsets.UTF_8);
    static final String LONG_VNAME = "v".repeat(1500);
    static final String HUGE_ATTR = "a".repeat((1 << 20) + 10);

    interface Params {
        void write(MessagePacker p) throws IOException;
    }

    @Test
    void rpcRefusesAnOversizedKeyNamingTheLimitAndStoresNothing() throws IOException {
        StoreState before = StoreState.of(standalone.store());
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            assertLimitError(
                    "key is 3000 bytes, the limit is 2048 (spreadosd.limits.max-key-bytes)", call(c, "add", p -> {
                        p.packArrayHeader(3);
                        p.packBinaryHeader(LONG_KEY.length).writePayload(LONG_KEY);
                        p.packString("data");
                        p.packMapHeader(0);
                    }));
            assertLimitError("spreadosd.limits.max-key-bytes", call(c, "add_data", p -> {
                p.packArrayHeader(2);
                p.packBinaryHeader(LONG_KEY.length).writePayload(LONG_KEY);
                p.packString("data");
            }));
            for (String read : List.of("get", "get_data", "get_attrs", "delete", "remove", "url", "util_locate")) {
                assertLimitError("spreadosd.limits.max-key-bytes", call(c, read, p -> {
                    p.packArrayHeader(1);
                    p.packBinaryHeader(LONG_KEY.length).writePayload(LONG_KEY);
                }));
            }
            assertLimitError("spreadosd.limits.max-key-bytes", call(c, "update_attrs", p -> {
                p.packArrayHeader(2);
                p.packBinaryHeader(LONG_KEY.length).writePayload(LONG_KEY);
                p.packMapHeader(0);
            }));
            assertAnswers(c);
        }
        assertEquals(before, StoreState.of(standalone.store()), "nothing stored");
    }

    @Test
    void rpcRefusesAnOversizedVnameOrAttributesNamingTheLimitAndStoresNothing() throws IOException {
        StoreState before = StoreState.of(standalone.store());
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            assertLimitError(
                    "vname is 1500 bytes, the limit is 1024 (spreadosd.limits.max-vname-bytes)", call(c, "addv", p -> {
                        p.packArrayHeader(4).packString(LONG_VNAME).packString("rpc-vname");
                        p.packString("data");
                        p.packMapHeader(0);
                    }));
            assertLimitError(
                    "spreadosd.limits.max-vname-bytes",
                    call(
                            c,
                            "addv_data",
                            p -> p.packArrayHeader(3)
                                    .packString(LONG_VNAME)
                                    .packString("rpc-vname")
                                    .packString("data")));
            assertLimitError(
                    "spreadosd.limits.max-vname-bytes",
                    call(
                            c,
                            "getv",
                            p -> p.packArrayHeader(2).packString(LONG_VNAME).packString("rpc-vname")));
            assertLimitError("the limit is 1048576 (spreadosd.limits.max-attrs-bytes)", call(c, "add", p -> {
                p.packArrayHeader(3).packString("rpc-attrs").packString("data");
                p.packMapHeader(1).packString("big").packString(HUGE_ATTR);
            }));
            assertOk(call(
                    c,
                    "add_data",
                    p -> p.packArrayHeader(2).packString("rpc-attrs2").packString("d")));
            StoreState afterOne = StoreState.of(standalone.store());
            assertLimitError("spreadosd.limits.max-attrs-bytes", call(c, "update_attrs", p -> {
                p.packArrayHeader(2).packString("rpc-attrs2");
                p.packMapHeader(1).packString("big").packString(HUGE_ATTR);
            }));
            assertEquals(afterOne, StoreState.of(standalone.store()), "the refused update changed nothing");
            assertEquals(
                    0,
                    result(call(c, "get_attrs", p -> p.packArrayHeader(1).packString("rpc-attrs2")))
                            .asMapValue()
                            .size(),
                    "the attributes are unchanged");
            assertTrue(
                    result(call(c, "get", p -> p.packArrayHeader(1).packString("rpc-vname")))
                            .asArrayValue()
                            .get(0)
                            .isNilValue(),
                    "no version of rpc-vname");
            assertTrue(
                    result(call(c, "get", p -> p.packArrayHeader(1).packString("rpc-attrs")))
                            .asArrayValue()
                            .get(0)
                            .isNilValue(),
                    "no version of rpc-attrs");
        }
        assertEquals(before.files() + 1, StoreState.of(standalone.store()).files(), "only the good add stored");
    }

    @Test
    void httpRefusesOversizedValuesNamingTheLimitAndStoresNothing() {
        StoreState before = StoreState.of(standalone.store());
        String longKey = new String(LONG_KEY, StandardCharsets.UTF_8);
        assertHttpError(
                "key is 3000 bytes, the limit is 2048 (spreadosd.limits.max-key-bytes)",
                http.put(standalone.node().uri("/data/" + longKey), new byte[1]));
        assertHttpError(
                "spreadosd.limits.max-key-bytes",
                http.form("POST", standalone.node().uri("/api/add"), "key=" + longKey + "&data=x"));
        assertHttpError(
                "spreadosd.limits.max-key-bytes", http.get(standalone.node().uri("/api/get_data?key=" + longKey)));
        assertHttpError(
                "vname is 1500 bytes, the limit is 1024 (spreadosd.limits.max-vname-bytes)",
                http.put(standalone.node().uri("/data/http-vname?vname=" + LONG_VNAME), new byte[1]));
        assertHttpError(
                "spreadosd.limits.max-vname-bytes",
                http.get(standalone.node().uri("/data/http-vname?vname=" + LONG_VNAME)));
        String contentType = "application/" + "c".repeat(302);
        assertHttpError(
                "is 314 bytes, the limit is 255 (spreadosd.limits.max-content-type-bytes)",
                http.put(standalone.node().uri("/data/http-ctype"), new byte[1], "Content-Type", contentType));
        String attrs = URLEncoder.encode("{\"big\":\"" + HUGE_ATTR + "\"}", StandardCharsets.UTF_8);
        assertHttpError(
                "spreadosd.limits.max-attrs-bytes",
                http.form("POST", standalone.node().uri("/data/http-attrs"), "data=x&attrs=" + attrs));
        assertHttpError(
                "spreadosd.limits.max-attrs-bytes",
                http.put(
                        standalone.node().uri("/attrs/http-attrs"),
                        ("{\"big\":\"" + HUGE_ATTR + "\"}").getBytes(StandardCharsets.UTF_8)));
        for (String k : List.of("http-vname", "http-ctype", "http-attrs")) {
            assertEquals(404, http.get(standalone.node().uri("/data/" + k)).statusCode(), k);
        }
        assertEquals(before, StoreState.of(standalone.store()), "nothing stored");
        assertEquals(
                202,
                http.put(standalone.node().uri("/data/http-ctype"), new byte[1], "Content-Type", "text/plain")
                        .statusCode(),
                "a content type within the limit is fine");
    }

    /** Version files in the data directory and the bytes of every update log: what an add would change. */
    record StoreState(long files, long logBytes) {
        static StoreState of(Path store) {
            return new StoreState(count(store.resolve("data")), logBytes(store.resolve("ulog")));
        }

        private static long count(Path dir) {
            if (!Files.isDirectory(dir)) {
                return 0;
            }
            try (Stream<Path> all = Files.walk(dir)) {
                return all.filter(Files::isRegularFile).count();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static long logBytes(Path dir) {
            if (!Files.isDirectory(dir)) {
                return 0;
            }
            try (Stream<Path> all = Files.list(dir)) {
                return all.filter(p -> p.getFileName().toString().endsWith(".log"))
                        .mapToLong(p -> p.toFile().length())
                        .sum();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static Value call(RpcClient c, String method, Params params) throws IOException {
        long id = ids.incrementAndGet();
        c.send(RpcClient.request(id, method, true, p -> {
            try {
                params.write(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
        Value r = c.receive();
        assertEquals(id, r.asArrayValue().get(1).asIntegerValue().toLong());
        return r;
    }

    static Value result(Value response) {
        List<Value> parts = response.asArrayValue().list();
        assertTrue(parts.get(2).isNilValue(), "error: " + parts.get(2));
        return parts.get(3);
    }

    static void assertOk(Value response) {
        result(response);
    }

    static void assertLimitError(String fragment, Value response) {
        List<Value> parts = response.asArrayValue().list();
        assertTrue(!parts.get(2).isNilValue(), () -> "expected an error, got " + abbreviate(parts.get(3)));
        String message = parts.get(2).asStringValue().asString();
        assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
    }

    static String abbreviate(Value v) {
        String s = v.toString();
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    /** The connection still serves after the refusals. */
    static void assertAnswers(RpcClient c) throws IOException {
        result(call(c, "stat", p -> p.packArrayHeader(1).packString("pid")));
    }

    static void assertHttpError(String fragment, HttpResponse<byte[]> r) {
        assertTrue(r.statusCode() == 400 || r.statusCode() == 413, r.statusCode() + ": " + text(r));
        assertTrue(text(r).contains(fragment), "expected '" + fragment + "' in: " + text(r));
    }
}
