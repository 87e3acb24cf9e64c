package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.management.JMException;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.spreadosd.gw.RequestLimitsTest.StoreState;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * A bounded fuzz run against a live node: for a few seconds, random and mutated MessagePack-RPC frames and
 * HTTP requests (huge headers, bad percent-encoding, truncated bodies, wrong types) on connections of their own.
 * Each gets an error answer or a closed connection, never an internal error; a well-behaved client on its own
 * connections keeps getting right answers meanwhile; and no version is stored. The seed is in every failure
 * message ({@code -Dfuzz.seed=...} repeats a run).
 */
class LiveFuzzTest {
    static final long FUZZ_MILLIS = 4_000;

    @RegisterExtension
    static final StandaloneNodeExtension standalone =
            new StandaloneNodeExtension(Map.of("spreadosd.rpc.max-message-size", "1 MiB"));

    static final byte[] KNOWN = "the known bytes".getBytes(StandardCharsets.UTF_8);

    @Test
    void badInputNeverHurtsTheNodeOrAnotherConnection() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        int rpcPort = standalone.node().rpcPort();
        try (RpcClient c = new RpcClient(rpcPort)) {
            c.send(RpcClient.request(
                    1,
                    "add",
                    true,
                    p -> io(() -> {
                        p.packArrayHeader(3).packString("fuzz-known");
                        p.packBinaryHeader(KNOWN.length).writePayload(KNOWN);
                        p.packMapHeader(1).packString("a").packString("b");
                    })));
            assertTrue(c.receive().asArrayValue().get(2).isNilValue(), "the known version is added");
        }
        StoreState before = StoreState.of(standalone.store());

        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicLong goodAnswers = new AtomicLong();
        CompletableFuture<Void> good = CompletableFuture.runAsync(() -> wellBehaved(stop, problems, goodAnswers));
        AtomicLong rpcConnections = new AtomicLong();
        AtomicLong httpRequests = new AtomicLong();
        CompletableFuture<Void> rpc =
                CompletableFuture.runAsync(() -> fuzzRpc(new Random(seed), problems, rpcConnections));
        CompletableFuture<Void> http =
                CompletableFuture.runAsync(() -> fuzzHttp(new Random(seed + 1), problems, httpRequests));
        CompletableFuture.allOf(rpc, http).get(FUZZ_MILLIS + 60_000, TimeUnit.MILLISECONDS);
        stop.set(true);
        good.get(30, TimeUnit.SECONDS);

        assertTrue(problems.isEmpty(), "seed " + seed + ": " + String.join("\n", problems));
        assertTrue(
                rpcConnections.get() > 20 && httpRequests.get() > 20,
                "seed " + seed + ": fuzzed " + rpcConnections + " RPC connections, " + httpRequests + " HTTP requests");
        assertTrue(goodAnswers.get() > 10, "seed " + seed + ": the well-behaved client was served meanwhile");
        assertEquals(before, StoreState.of(standalone.store()), "seed " + seed + ": no byte stored by the fuzz");
        ObjectName bean = new ObjectName("org.spreadosd:type=RpcConnections,port=" + rpcPort);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (attribute(bean, "OpenConnections") > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, attribute(bean, "OpenConnections"), "seed " + seed + ": every fuzz connection closed");
        assertEquals(0, attribute(bean, "HeldBytes"), "seed " + seed + ": nothing held for them");
    }

    /**
     * An upload the client cuts short is the client's fault (400), not a data server's (503, which would also
     * make the gateway try that member last for every other client's reads).
     */
    @Test
    void aTruncatedUploadIsAnsweredAsTheClientsFault() throws IOException {
        for (String request : List.of(
                "PUT /data/cut-short HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nonly this much",
                "PUT /data/cut-short HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")) {
            StoreState before = StoreState.of(standalone.store());
            try (Socket s = new Socket("127.0.0.1", standalone.node().httpPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                s.shutdownOutput();
                String status = statusLine(s.getInputStream());
                assertTrue(status.startsWith("HTTP/1.1 400"), status + " for " + request);
            }
            assertEquals(before, StoreState.of(standalone.store()), "nothing stored");
        }
    }

    // ---- the well-behaved client ----

    private static void wellBehaved(AtomicBoolean stop, ConcurrentLinkedQueue<String> problems, AtomicLong served) {
        Http http = new Http();
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            for (long id = 1_000_000; !stop.get(); id++) {
                long msgid = id;
                c.send(RpcClient.request(
                        msgid, "get", true, p -> io(() -> p.packArrayHeader(1).packString("fuzz-known"))));
                List<Value> answer = c.receive().asArrayValue().list();
                List<Value> result = answer.get(3).isArrayValue()
                        ? answer.get(3).asArrayValue().list()
                        : List.of();
                if (answer.get(1).asIntegerValue().toLong() != msgid
                        || !answer.get(2).isNilValue()
                        || result.size() != 2
                        || !Arrays.equals(KNOWN, result.get(0).asRawValue().asByteArray())) {
                    problems.add("the well-behaved RPC client got " + answer);
                    return;
                }
                var read = http.get(standalone.node().uri("/data/fuzz-known"));
                if (read.statusCode() != 200 || !Arrays.equals(KNOWN, read.body())) {
                    problems.add("the well-behaved HTTP client got " + read.statusCode() + " " + Http.text(read));
                    return;
                }
                served.addAndGet(2);
            }
        } catch (IOException | RuntimeException e) {
            problems.add("the well-behaved client failed: " + e);
        }
    }

    // ---- MessagePack-RPC ----

    private static void fuzzRpc(Random r, ConcurrentLinkedQueue<String> problems, AtomicLong connections) {
        long end = System.currentTimeMillis() + FUZZ_MILLIS;
        List<byte[]> seeds = rpcSeeds();
        while (System.currentTimeMillis() < end && problems.isEmpty()) {
            ByteArrayOutputStream sent = new ByteArrayOutputStream();
            int frames = 1 + r.nextInt(4);
            for (int i = 0; i < frames; i++) {
                byte[] seed = seeds.get(r.nextInt(seeds.size()));
                sent.writeBytes(
                        switch (r.nextInt(4)) {
                            case 0 -> seed;
                            case 1 -> randomBytes(r, 1 + r.nextInt(64));
                            default -> mutate(r, seed, 1 + r.nextInt(4));
                        });
            }
            byte[] bytes = sent.toByteArray();
            connections.incrementAndGet();
            try (Socket s = new Socket("127.0.0.1", standalone.node().rpcPort())) {
                s.setSoTimeout(200);
                OutputStream out = s.getOutputStream();
                out.write(bytes);
                out.flush();
                readRpcAnswers(s.getInputStream(), bytes, problems);
            } catch (IOException e) {
                // reset or closed by the server while writing: a closed connection is an allowed answer
            }
        }
    }

    /** Answers are well-formed responses and errors are named, never "internal error"; until closed or quiet. */
    private static void readRpcAnswers(InputStream in, byte[] sent, ConcurrentLinkedQueue<String> problems)
            throws IOException {
        MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(in);
        try {
            while (unpacker.hasNext()) {
                Value v = unpacker.unpackValue();
                List<Value> parts = v.isArrayValue() ? v.asArrayValue().list() : List.of();
                boolean response = parts.size() == 4
                        && parts.get(0).isIntegerValue()
                        && parts.get(0).asIntegerValue().toInt() == 1;
                String error = response && parts.get(2).isStringValue()
                        ? parts.get(2).asStringValue().asString()
                        : "";
                if (!response || error.startsWith("internal error")) {
                    problems.add("RPC answer " + abbreviate(v.toString()) + " to " + hex(sent));
                }
            }
        } catch (SocketTimeoutException quiet) {
            // the server waits for the rest of a message: fine
        }
    }

    private static List<byte[]> rpcSeeds() {
        List<byte[]> seeds = new ArrayList<>();
        byte[] longKey = "k".repeat(3000).getBytes(StandardCharsets.UTF_8);
        seeds.add(req("get", p -> p.packArrayHeader(1).packString("fuzz-a")));
        seeds.add(req("get_data", p -> p.packArrayHeader(1).packString("fuzz-known")));
        seeds.add(req("get_attrs", p -> p.packArrayHeader(1).packString("fuzz-b")));
        seeds.add(req("gett", p -> p.packArrayHeader(2).packLong(1234).packString("fuzz-c")));
        seeds.add(req("getv", p -> p.packArrayHeader(2).packString("v").packString("fuzz-d")));
        seeds.add(req(
                "read",
                p -> p.packArrayHeader(3).packString("fuzz-known").packLong(2).packLong(5)));
        seeds.add(req(
                "readd",
                p -> p.packArrayHeader(3)
                        .packArrayHeader(3)
                        .packString("fuzz-e")
                        .packLong(1)
                        .packInt(0)
                        .packLong(0)
                        .packLong(9)));
        seeds.add(req("url", p -> p.packArrayHeader(1).packString("fuzz-f")));
        seeds.add(req("util_locate", p -> p.packArrayHeader(1).packString("fuzz-g")));
        seeds.add(req("stat", p -> p.packArrayHeader(1).packString("pid")));
        seeds.add(req("stat", p -> p.packArrayHeader(1).packString("nodes")));
        // refused adds and wrong types: mutations of these still cannot add anything
        seeds.add(req("add", p -> {
            p.packArrayHeader(3).packBinaryHeader(longKey.length).writePayload(longKey);
            p.packString("x").packMapHeader(0);
        }));
        seeds.add(req("get", p -> p.packArrayHeader(1).packInt(123)));
        seeds.add(req(
                "read",
                p -> p.packArrayHeader(3).packString("k").packString("a").packLong(-1)));
        seeds.add(req("stat", p -> p.packArrayHeader(1).packNil()));
        seeds.add(req("gett", p -> p.packArrayHeader(2).packDouble(1.5).packString("k")));
        seeds.add(req("no_such_method", p -> p.packArrayHeader(0)));
        seeds.add(req("get", p -> p.packMapHeader(1).packString("key").packString("k")));
        seeds.add(new byte[] {(byte) 0x94, 0, (byte) 0xa1, 'x', (byte) 0xa3, 'g', 'e', 't', (byte) 0x90});
        seeds.add(new byte[] {(byte) 0x94, 3, 7, (byte) 0xa3, 'g', 'e', 't', (byte) 0x90});
        seeds.add(new byte[] {(byte) 0x93, 2, (byte) 0xa4, 's', 't', 'a', 't', (byte) 0x91, (byte) 0xc0});
        seeds.add(new byte[] {(byte) 0xdd, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        seeds.add(
                new byte[] {(byte) 0x94, 0, 5, (byte) 0xa3, 'g', 'e', 't', (byte) 0x91, (byte) 0xc6, 0x7f, -1, -1, -1});
        seeds.add(new byte[] {(byte) 0xc1});
        return seeds;
    }

    private static byte[] req(String method, IoConsumer params) {
        return RpcClient.request(7, method, true, p -> io(() -> params.accept(p)));
    }

    interface IoConsumer {
        void accept(MessagePacker p) throws IOException;
    }

    // ---- HTTP ----

    private static void fuzzHttp(Random r, ConcurrentLinkedQueue<String> problems, AtomicLong requests) {
        long end = System.currentTimeMillis() + FUZZ_MILLIS;
        List<Consumer<ByteArrayOutputStream>> shapes = httpShapes(r);
        while (System.currentTimeMillis() < end && problems.isEmpty()) {
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            shapes.get(r.nextInt(shapes.size())).accept(request);
            byte[] bytes = request.toByteArray();
            requests.incrementAndGet();
            try (Socket s = new Socket("127.0.0.1", standalone.node().httpPort())) {
                s.setSoTimeout(2_000);
                s.getOutputStream().write(bytes);
                s.getOutputStream().flush();
                s.shutdownOutput();
                String status = statusLine(s.getInputStream());
                // 501 (an unknown method) and 505 (a mangled version) are the protocol's answers; 500 is a bug and
                // 503 an oversized value reaching the metadata store
                if (status.startsWith("HTTP/1.1 500") || status.startsWith("HTTP/1.1 503")) {
                    problems.add(status + " for " + abbreviate(new String(bytes, StandardCharsets.ISO_8859_1)));
                }
            } catch (SocketTimeoutException e) {
                problems.add("no answer and no close within 2 s for "
                        + abbreviate(new String(bytes, StandardCharsets.ISO_8859_1)));
            } catch (IOException e) {
                // reset by the server: a closed connection is an allowed answer
            }
        }
    }

    /** The first line of the response, or "" when the server closed without one. */
    private static String statusLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\r' && b != '\n') {
            line.write(b);
        }
        in.transferTo(OutputStream.nullOutputStream());
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** Request shapes; only GETs are mutated, so no mutation can turn one into an add. */
    private static List<Consumer<ByteArrayOutputStream>> httpShapes(Random r) {
        List<String> gets = List.of(
                "GET /data/fuzz-known HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /data/fuzz-a?vtime=12&vname=x HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /attrs/fuzz-known?format=tsv HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /api/get_data?key=fuzz-%41 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /redirect/fuzz-b HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n",
                "GET /direct/0/12/fuzz-c HTTP/1.1\r\nHost: x\r\n\r\n");
        List<Consumer<ByteArrayOutputStream>> shapes = new ArrayList<>();
        shapes.add(out -> write(out, gets.get(r.nextInt(gets.size()))));
        shapes.add(out -> out.writeBytes(
                mutate(r, gets.get(r.nextInt(gets.size())).getBytes(StandardCharsets.ISO_8859_1), 1 + r.nextInt(4))));
        shapes.add(out -> write(out, "GET /data/" + badEscape(r) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        shapes.add(out -> write(out, "GET /api/get_data?key=" + badEscape(r) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        shapes.add(out -> write(
                out,
                "GET /data/fuzz-a HTTP/1.1\r\nHost: x\r\nX-Huge: " + "h".repeat(1 << (10 + r.nextInt(8)))
                        + "\r\n\r\n"));
        shapes.add(out -> {
            StringBuilder many = new StringBuilder("GET /data/fuzz-a HTTP/1.1\r\nHost: x\r\n");
            for (int i = 0, n = 50 + r.nextInt(200); i < n; i++) {
                many.append("X-H").append(i).append(": v\r\n");
            }
            write(out, many.append("\r\n").toString());
        });
        shapes.add(out ->
                write(out, "GET /data/" + "k".repeat(3000 + r.nextInt(20_000)) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        // truncated bodies: the connection ends before the declared length
        shapes.add(out -> write(
                out,
                "PUT /data/fuzz-truncated-" + r.nextInt(1000)
                        + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + (100 + r.nextInt(100_000)) + "\r\n\r\n"
                        + "x".repeat(r.nextInt(100))));
        shapes.add(out -> write(
                out,
                "POST /data/fuzz-truncated HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\ndata=abc"));
        shapes.add(out -> write(
                out, "PUT /data/fuzz-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + "5\r\nabc"));
        shapes.add(out -> write(
                out,
                "POST /data/fuzz-mp HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 60\r\n\r\n"
                        + "--XX\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nab"));
        // wrong types: refused before a byte is staged
        shapes.add(out -> write(
                out,
                "PUT /data/fuzz-types?"
                        + List.of(
                                        "vtime=abc",
                                        "attrs=%7Bnot-json",
                                        "attrs=a&format=xml",
                                        "vname=" + "v".repeat(1500),
                                        "attrs=%5B1%2C2%5D",
                                        "vtime=-1")
                                .get(r.nextInt(6))
                        + " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
        shapes.add(
                out -> write(
                        out,
                        "POST /data/fuzz-form HTTP/1.1\r\nHost: x\r\n"
                                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\ndata=a&vtime=1"));
        shapes.add(
                out -> write(
                        out,
                        "POST /api/add HTTP/1.1\r\nHost: x\r\n"
                                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\ndata=%zz&key="));
        shapes.add(out -> write(out, "GET /data/fuzz-a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"));
        shapes.add(out -> write(out, "FROB /data/fuzz-a HTTP/1.1\r\nHost: x\r\n\r\n"));
        shapes.add(out -> out.writeBytes(randomBytes(r, 1 + r.nextInt(200))));
        return shapes;
    }

    private static String badEscape(Random r) {
        return List.of("%", "%4", "%zz", "a%g1", "%%", "%0\u0660", "%+1", "%-0", "k%FF%00%2F..%2F")
                .get(r.nextInt(9));
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    // ---- mutations ----

    static byte[] mutate(Random r, byte[] seed, int times) {
        byte[] s = seed;
        for (int i = 0; i < times && s.length > 0; i++) {
            int at = r.nextInt(s.length);
            s = switch (r.nextInt(6)) {
                case 0 -> {
                    byte[] o = s.clone();
                    o[at] ^= (byte) (1 << r.nextInt(8));
                    yield o;
                }
                case 1 -> {
                    byte[] o = s.clone();
                    o[at] = (byte) r.nextInt(256);
                    yield o;
                }
                case 2 -> {
                    byte[] o = new byte[s.length + 1];
                    System.arraycopy(s, 0, o, 0, at);
                    o[at] = (byte) r.nextInt(256);
                    System.arraycopy(s, at, o, at + 1, s.length - at);
                    yield o;
                }
                case 3 -> {
                    byte[] o = new byte[s.length - 1];
                    System.arraycopy(s, 0, o, 0, at);
                    System.arraycopy(s, at + 1, o, at, s.length - at - 1);
                    yield o;
                }
                case 4 -> Arrays.copyOf(s, at);
                default -> {
                    int to = Math.min(s.length, at + 1 + r.nextInt(16));
                    byte[] o = new byte[s.length + (to - at)];
                    System.arraycopy(s, 0, o, 0, to);
                    System.arraycopy(s, at, o, to, s.length - at);
                    yield o;
                }
            };
        }
        return s;
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 80); i++) {
            sb.append(String.format("%02x", b[i] & 0xff));
        }
        return sb + (b.length > 80 ? "...(" + b.length + " bytes)" : "");
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    private static long attribute(ObjectName bean, String name) throws JMException {
        return ((Number) ManagementFactory.getPlatformMBeanServer().getAttribute(bean, name)).longValue();
    }

    interface IoAction {
        void run() throws IOException;
    }

    static void io(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
