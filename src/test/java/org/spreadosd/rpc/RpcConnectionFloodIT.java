package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.value.Value;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.SpreadProcess;

/**
 * Issue 13, row 6 scaled down: a node process keeping at most 200 RPC connections (80 per client address) is
 * flooded with 600 from two other addresses, half of them idle, half having sent one byte of a message and nothing
 * more. The node's file descriptors stay near its limit, a normal client from its own address is answered
 * throughout, and every flood connection is closed by the node within its idle timeout or message rate window.
 */
class RpcConnectionFloodIT {
    static final int FLOOD = 600;
    static final int LIMIT = 200;

    @TempDir
    Path tmp;

    private SpreadProcess node;
    private final List<Socket> flood = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (Socket s : flood) {
            s.close();
        }
        if (node != null) {
            node.stop();
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aFloodOfIdleAndTricklingConnectionsIsBoundedAndReaped() throws Exception {
        node = SpreadProcess.start(
                tmp,
                tmp.resolve("store"),
                FreePorts.next(),
                Map.of(
                        "JAVA_OPTS",
                        "-Xmx256m -Dspreadosd.clients.rpc.max-connections=" + LIMIT
                                + " -Dspreadosd.clients.rpc.max-connections-per-address=80"
                                + " -Dspreadosd.clients.rpc.idle-timeout=4s"
                                + " -Dspreadosd.clients.rpc.message-min-rate=1KiB"
                                + " -Dspreadosd.clients.rpc.message-rate-window=4s"));
        node.awaitReady();
        call("before", 1);
        long baseline = fds();
        for (int i = 0; i < FLOOD; i++) {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(i % 2 == 0 ? "127.0.0.2" : "127.0.0.3", 0));
            s.connect(new InetSocketAddress("127.0.0.1", node.rpcPort), 10_000);
            s.setSoTimeout(100);
            if (i % 4 < 2) {
                s.getOutputStream().write(0x94); // the first byte of a request, never the rest
            }
            flood.add(s);
        }
        long[] latencies = new long[40];
        long peakFds = 0;
        for (int i = 0; i < latencies.length; i++) {
            long start = System.nanoTime();
            call("beside-flood-" + i, 100);
            latencies[i] = System.nanoTime() - start;
            peakFds = Math.max(peakFds, fds());
        }
        Arrays.sort(latencies);
        System.out.println("beside " + FLOOD + " flood connections: p99 "
                + TimeUnit.NANOSECONDS.toMillis(latencies[latencies.length - 1]) + " ms, node fds " + baseline
                + " before, peak " + peakFds);
        assertTrue(
                peakFds <= baseline + LIMIT + 20,
                "the node held " + peakFds + " file descriptors, " + baseline + " before the flood");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            long open = flood.stream().filter(s -> !closedByServer(s)).count();
            if (open == 0) {
                break;
            }
            assertTrue(System.nanoTime() < deadline, open + " flood connections still open after 30 s");
            Thread.sleep(500);
        }
        assertTrue(node.process.isAlive());
        call("after", 1);
        String log = node.log();
        long refusalLines = log.lines().filter(l -> l.contains("refused")).count();
        assertTrue(refusalLines <= 10, refusalLines + " lines about refused connections");
    }

    /** Whether the node has closed {@code s}: end of stream (after any answer), or reset. */
    private static boolean closedByServer(Socket s) {
        try {
            InputStream in = s.getInputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private void call(String key, int size) throws IOException {
        try (RpcConnection c = new RpcConnection("127.0.0.1", node.rpcPort, 30_000)) {
            c.call("add_data", key, new byte[size]);
            Value got = c.call("get_data", key);
            assertEquals(size, got.asRawValue().asByteArray().length);
        }
    }

    private long fds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + node.process.pid() + "/fd"))) {
            return fds.count();
        }
    }
}
