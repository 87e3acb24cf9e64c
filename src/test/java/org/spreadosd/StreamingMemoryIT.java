package org.spreadosd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.SpreadProcess;

/**
 * A 2 GiB object through {@code scripts/spread-standalone} started as a real process with
 * {@code JAVA_OPTS=-Xmx256m}: PUT and GET stream it (neither side ever holds it in memory), the bytes come
 * back identical, and the server's peak resident set stays far below the object's size.
 */
@Tag("slow")
class StreamingMemoryIT {
    private static final long LENGTH = 2L << 30;
    private static final int CHUNK = 64 * 1024;
    private static final long MAX_PEAK_RSS_MIB = 700;
    private static final String KEY = "/data/streaming/object-2GiB.bin";

    @TempDir
    Path tmp;

    private SpreadProcess server;

    @AfterEach
    void stopServerAndDeleteData() throws IOException {
        try {
            if (server != null) {
                server.stop();
            }
        } finally {
            deleteContents(tmp); // 2 GiB: gone as soon as the server no longer writes there
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void twoGibibytesStreamThroughASmallHeap() throws Exception {
        long usable = Files.getFileStore(tmp).getUsableSpace();
        assertTrue(
                usable > LENGTH + (1L << 30),
                () -> "needs 3 GiB free under " + tmp + ", has " + (usable >> 20) + " MiB");

        server = SpreadProcess.start(tmp, tmp.resolve("data"), FreePorts.next(), Map.of("JAVA_OPTS", "-Xmx256m"));
        server.awaitReady();
        long pid = server.process.pid();
        String cmdline = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                .replace('\0', ' ');
        assertTrue(
                cmdline.contains("java"),
                () -> "pid " + pid + " is not the server JVM (the script must exec java): " + cmdline);
        assertTrue(cmdline.contains("-Xmx256m"), () -> "JAVA_OPTS did not reach the JVM: " + cmdline);

        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        URI uri = URI.create("http://127.0.0.1:" + server.httpPort + KEY);

        // PUT: pseudo-random bytes generated 64 KiB at a time, digested as they are handed to the client.
        AtomicReference<GeneratedStream> generated = new AtomicReference<>();
        HttpRequest put = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(15))
                .header("Content-Type", "application/octet-stream")
                .PUT(BodyPublishers.fromPublisher(
                        BodyPublishers.ofInputStream(() -> {
                            GeneratedStream s = new GeneratedStream(LENGTH, 0x5eed_2b17_c0ffeeL);
                            generated.set(s);
                            return s;
                        }),
                        LENGTH))
                .build();
        long putStart = System.nanoTime();
        HttpResponse<String> putResponse = client.send(put, BodyHandlers.ofString());
        double putSeconds = (System.nanoTime() - putStart) / 1e9;
        assertEquals(
                202,
                putResponse.statusCode(),
                () -> "PUT: " + putResponse.body() + "\nserver log:\n" + tail(server.log()));
        GeneratedStream sent = generated.get();
        assertEquals(LENGTH, sent.handedOut(), "bytes sent");
        String sentDigest = sent.hexDigest();

        // GET: read as a stream, digested and counted on the way.
        HttpRequest get = HttpRequest.newBuilder(uri)
                .timeout(Duration.ofMinutes(15))
                .GET()
                .build();
        MessageDigest readDigest = sha256();
        long received = 0;
        long getStart = System.nanoTime();
        HttpResponse<InputStream> getResponse = client.send(get, BodyHandlers.ofInputStream());
        if (getResponse.statusCode() != 200) {
            String error;
            try (InputStream in = getResponse.body()) {
                error = new String(in.readNBytes(4000), StandardCharsets.UTF_8);
            }
            throw new AssertionError(
                    "GET: " + getResponse.statusCode() + " " + error + "\nserver log:\n" + tail(server.log()));
        }
        try (InputStream in = getResponse.body()) {
            byte[] buf = new byte[CHUNK];
            int n;
            while ((n = in.read(buf)) != -1) {
                readDigest.update(buf, 0, n);
                received += n;
            }
        }
        double getSeconds = (System.nanoTime() - getStart) / 1e9;
        assertEquals(
                String.valueOf(LENGTH),
                getResponse.headers().firstValue("Content-Length").orElse("none"),
                "GET Content-Length");
        assertEquals(LENGTH, received, "bytes received");
        assertEquals(sentDigest, HexFormat.of().formatHex(readDigest.digest()), "SHA-256 of the bytes read back");

        long peakRssMiB = peakRssKiB(pid) / 1024;
        System.out.printf(
                "STREAMING-2GiB: PUT %.1f s (%.0f MB/s), GET %.1f s (%.0f MB/s), server peak RSS %d MiB (VmHWM, JAVA_OPTS=-Xmx256m)%n",
                putSeconds, LENGTH / 1e6 / putSeconds, getSeconds, LENGTH / 1e6 / getSeconds, peakRssMiB);
        assertTrue(
                peakRssMiB < MAX_PEAK_RSS_MIB,
                () -> "server peak RSS " + peakRssMiB + " MiB, limit " + MAX_PEAK_RSS_MIB + " MiB");
    }

    /** VmHWM (peak resident set size) of a live process, in KiB. */
    private static long peakRssKiB(long pid) throws IOException {
        List<String> status = Files.readAllLines(Path.of("/proc/" + pid + "/status"));
        for (String line : status) {
            if (line.startsWith("VmHWM:")) {
                String[] parts = line.substring("VmHWM:".length()).trim().split("\\s+");
                assertEquals("kB", parts[1], line);
                return Long.parseLong(parts[0]);
            }
        }
        throw new AssertionError("no VmHWM line in /proc/" + pid + "/status");
    }

    private static String tail(String log) {
        return log.length() <= 8000 ? log : "..." + log.substring(log.length() - 8000);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteContents(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /**
     * {@code length} deterministic pseudo-random bytes (xorshift64*), generated one 64 KiB chunk at a time;
     * every byte handed out also goes into a SHA-256 digest.
     */
    static final class GeneratedStream extends InputStream {
        private final long length;
        private final byte[] chunk = new byte[CHUNK];
        private final ByteBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        private final MessageDigest digest = sha256();
        private long state;
        private long generated;
        private long handedOut;
        private int pos;
        private int limit;

        GeneratedStream(long length, long seed) {
            this.length = length;
            this.state = seed == 0 ? 1 : seed;
        }

        private long next() {
            long x = state;
            x ^= x >>> 12;
            x ^= x << 25;
            x ^= x >>> 27;
            state = x;
            return x * 0x2545F4914F6CDD1DL;
        }

        private void refill() {
            int n = (int) Math.min(CHUNK, length - generated);
            int longs = n >>> 3;
            for (int i = 0; i < longs; i++) {
                view.putLong(i << 3, next());
            }
            if ((n & 7) != 0) {
                long last = next();
                for (int i = longs << 3; i < n; i++) {
                    chunk[i] = (byte) last;
                    last >>>= 8;
                }
            }
            generated += n;
            pos = 0;
            limit = n;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (pos == limit) {
                if (generated == length) {
                    return -1;
                }
                refill();
            }
            int n = Math.min(len, limit - pos);
            System.arraycopy(chunk, pos, b, off, n);
            digest.update(chunk, pos, n);
            pos += n;
            handedOut += n;
            return n;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int available() {
            return limit - pos;
        }

        long handedOut() {
            return handedOut;
        }

        String hexDigest() {
            return HexFormat.of().formatHex(digest.digest());
        }
    }
}
