package org.spreadosd.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.spreadosd.bench.SpreadBench.Protocol;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.StandaloneNodeExtension;
import picocli.CommandLine;
import picocli.CommandLine.TypeConversionException;

/** spread-bench against a real standalone node, over both protocols. */
class SpreadBenchTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    static final Http http = new Http();
    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int status, String out, String err) {
        JsonNode report() {
            try {
                return JSON.readTree(out);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + out + "\nstderr: " + err, e);
            }
        }
    }

    static Run bench(boolean tty, String... args) {
        SpreadBench bench = new SpreadBench();
        bench.stderrIsTty = tty;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli =
                SpreadBench.commandLine(bench).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        return new Run(cli.execute(args), out.toString(), err.toString());
    }

    /** A run against the test node on {@code protocol}'s port. */
    static Run bench(Protocol protocol, String... args) {
        List<String> all =
                new ArrayList<>(List.of("--protocol", protocol.name(), "--port", Integer.toString(port(protocol))));
        all.addAll(List.of(args));
        return bench(false, all.toArray(new String[0]));
    }

    static int port(Protocol protocol) {
        return protocol == Protocol.http
                ? standalone.node().httpPort()
                : standalone.node().rpcPort();
    }

    static byte[] bytesOf(String key, long size) throws IOException {
        return new ObjectContent(key, size).stream().readAllBytes();
    }

    static void assertPhaseConsistent(JsonNode phase, long size) {
        double seconds = phase.get("seconds").asDouble();
        double rate = phase.get("requests_per_sec").asDouble();
        assertTrue(seconds > 0, phase.toString());
        assertEquals(phase.get("count").asLong() / seconds, rate, rate * 0.01 + 0.01, phase.toString());
        assertEquals(
                rate * size / 1e6,
                phase.get("mb_per_sec").asDouble(),
                rate * size / 1e6 * 0.01 + 0.001,
                phase.toString());
        String[] order = {"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"};
        assertTrue(phase.get(order[0]).asDouble() > 0, phase.toString());
        for (int i = 1; i < order.length; i++) {
            assertTrue(phase.get(order[i - 1]).asDouble() <= phase.get(order[i]).asDouble(), phase.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void everyObjectIsWrittenThenReadBackAndVerified(Protocol protocol) throws IOException {
        Run run = bench(protocol, "--count", "200", "--size", "1K", "--concurrency", "4", "--json");
        assertEquals(0, run.status(), run.err());
        JsonNode report = run.report();
        for (String phase : List.of("put", "get")) {
            assertEquals(200, report.get(phase).get("count").asLong(), run.out());
            assertEquals(0, report.get(phase).get("errors").asLong(), run.out());
            assertPhaseConsistent(report.get(phase), 1024);
        }
        // the node holds, under the keys the issue names, the bytes the GETs were checked against
        String runId = report.get("run_id").asText();
        for (int n : new int[] {0, 199}) {
            String key = "bench/" + runId + "/" + n;
            assertArrayEquals(
                    bytesOf(key, 1024),
                    http.get(standalone.node().uri("/data/" + key)).body(),
                    key);
        }
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void objectsAnotherWriterChangedFailVerification(Protocol protocol) throws IOException {
        String runId = "changed-" + protocol;
        String[] readBack = {"--read-only", "--run-id", runId, "--count", "20", "--concurrency", "4", "--json"};
        assertEquals(
                0,
                bench(protocol, "--run-id", runId, "--count", "20", "--concurrency", "4")
                        .status());
        Run before = bench(protocol, readBack);
        assertEquals(0, before.status(), before.err());
        assertTrue(before.report().get("put").isNull());
        assertEquals(20, before.report().get("get").get("count").asLong());

        // a newer version of each object, as long as the old one: only the byte check can tell
        for (int n = 0; n < 20; n++) {
            String key = "bench/" + runId + "/" + n;
            assertEquals(
                    202,
                    http.put(standalone.node().uri("/data/" + key), bytesOf(key + "-other", 1024))
                            .statusCode());
        }
        Run after = bench(protocol, readBack);
        assertEquals(1, after.status(), after.err());
        JsonNode get = after.report().get("get");
        assertEquals(0, get.get("count").asLong(), after.out());
        assertEquals(20, get.get("errors").asLong(), after.out());
        assertTrue(get.get("p50_ms").isNull(), "failed requests stay out of the latencies: " + after.out());
        assertTrue(after.err().contains("content differs from what was written at byte"), after.err());
    }

    @ParameterizedTest
    @EnumSource(Protocol.class)
    void missingObjectsAreErrors(Protocol protocol) {
        Run run = bench(protocol, "--read-only", "--run-id", "never-written", "--count", "10", "--json");
        assertEquals(1, run.status(), run.err());
        assertEquals(10, run.report().get("get").get("errors").asLong(), run.out());
        assertTrue(run.err().contains(protocol == Protocol.http ? "HTTP 404" : "not found"), run.err());
    }

    @ParameterizedTest
    @CsvSource({"http, 100003", "rpc, 100003", "http, 3M", "rpc, 3M"})
    void objectsOfManyChunksAndOddSizesStreamBothWays(Protocol protocol, String size) {
        Run run = bench(protocol, "--size", size, "--count", "6", "--concurrency", "2", "--json");
        assertEquals(0, run.status(), run.err());
        JsonNode report = run.report();
        assertEquals(ByteSize.parse(size), report.get("size").asLong());
        assertEquals(6, report.get("get").get("count").asLong(), run.out());
        assertPhaseConsistent(report.get("get"), ByteSize.parse(size));
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void durationEndsEachPhaseAndProgressShowsOnStandardError(boolean tty) {
        Run run = bench(
                tty, "--port", Integer.toString(standalone.node().httpPort()), "--duration", "2", "--concurrency", "2");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().matches("(?s).*\\nPUT +[1-9]\\d* +0 .*\\nGET +[1-9]\\d* +0 .*"), run.out());
        // a phase lasts 2 s, so the once-a-second progress line came at least once in each
        for (String phase : List.of("PUT", "GET")) {
            String line = phase + " \\d+ done, 0 errors, \\d+ req/s, [\\d.]+ MB/s, \\d/2 s";
            Pattern progress = Pattern.compile(tty ? "\\r" + line + " *" : "(?m)^" + line + "$");
            assertTrue(progress.matcher(run.err()).find(), run.err());
        }
        assertEquals(tty, run.err().contains("\r"), run.err());
    }

    @Test
    void usageMistakesExitTwoWithOneLine() {
        String[][] mistakes = {
            {"--size", "12X"},
            {"--size", "0"},
            {"--concurrency", "0"},
            {"--protocol", "ftp"},
            {"--read-only", "--count", "5"},
            {"--run-id", "a/b"},
            {"--count", "-3"},
            {"--duration", "0"},
            {"--bogus"}
        };
        for (String[] args : mistakes) {
            Run run = bench(false, args);
            assertEquals(2, run.status(), String.join(" ", args) + ": " + run.err());
            assertTrue(run.err().startsWith("spread-bench: "), run.err());
            assertEquals(1, run.err().lines().count(), run.err());
        }
    }

    @Test
    void anUnreachableServerIsOneLineAndExitOne() {
        Run run = bench(false, "--port", Integer.toString(FreePorts.next()), "--count", "5");
        assertEquals(1, run.status());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(
                run.err().contains("cannot connect to http 127.0.0.1:")
                        && run.err().contains("Connection refused"),
                run.err());
        assertEquals("", run.out());
    }

    @Test
    void aServerGoneMidRunFailsEachRequestInOneNamedLine() {
        // past the start-up probe, as when the node stops during a run
        int closed = FreePorts.next();
        ObjectContent content = new ObjectContent("bench/gone/0", 10);
        IOException http = assertThrows(
                IOException.class,
                () -> new HttpTarget("127.0.0.1", closed, Duration.ofSeconds(5))
                        .open()
                        .put("bench/gone/0", content));
        assertTrue(http.getMessage().startsWith("PUT bench/gone/0: cannot connect"), http.getMessage());
        IOException rpc = assertThrows(
                IOException.class,
                () -> new RpcTarget("127.0.0.1", closed, 5000).open().getAndVerify("bench/gone/0", content));
        assertTrue(rpc.getMessage().startsWith("get_data bench/gone/0: Connection refused"), rpc.getMessage());
    }

    @Test
    void contentIsTheSameWhateverTheChunks() throws IOException {
        ObjectContent content = new ObjectContent("bench/x/1", 1000);
        byte[] whole = content.stream().readAllBytes();
        assertEquals(1000, whole.length);
        byte[] pieces = new byte[1000];
        int[] lengths = {1, 7, 13, 8, 3};
        int at = 0;
        for (int i = 0; at < 1000; i++) {
            int length = Math.min(lengths[i % lengths.length], 1000 - at);
            content.fill(at, pieces, at, length);
            at += length;
        }
        assertArrayEquals(whole, pieces);
        assertFalse(Arrays.equals(
                whole, new ObjectContent("bench/x/2", 1000).stream().readAllBytes()));
    }

    @Test
    void verifierFindsAChangedByteAndAWrongLength() throws IOException {
        ObjectContent content = new ObjectContent("bench/x/1", 100);
        byte[] bytes = content.stream().readAllBytes();

        ContentVerifier same = content.verifier();
        same.accept(bytes, 0, 40);
        same.accept(bytes, 40, 60);
        same.finish();

        bytes[77] ^= 1;
        ContentVerifier changed = content.verifier();
        changed.accept(bytes, 0, 100);
        assertTrue(assertThrows(IOException.class, changed::finish).getMessage().contains("at byte 77"));

        ContentVerifier shorter = content.verifier();
        shorter.accept(bytes, 0, 50);
        assertTrue(assertThrows(IOException.class, shorter::finish).getMessage().contains("got 50 bytes, wrote 100"));
    }

    @Test
    void sizesTakeBinarySuffixes() {
        assertEquals(1000, ByteSize.parse("1000"));
        assertEquals(1024, ByteSize.parse("1K"));
        assertEquals(1 << 20, ByteSize.parse("1m"));
        assertEquals(256L << 20, ByteSize.parse("256M"));
        assertEquals(1L << 30, ByteSize.parse("1G"));
        for (String bad : new String[] {"0", "-1", "1T", "", "K", "1.5M"}) {
            assertThrows(TypeConversionException.class, () -> ByteSize.parse(bad), bad);
        }
    }
}
