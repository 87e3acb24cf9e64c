package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * Issue 13, row 6's log: a node process started with {@code ulimit -n 512} and (for this test) no connection limit
 * of its own runs out of file descriptors under a flood of connections. Pekko's listener fails every accept then,
 * tens of thousands of times a second, each logged with a stack trace (2.2 GB of log in 35 s at full size); the
 * node writes one line per interval instead, and answers again once the flood is gone.
 */
class AcceptErrorLogIT {
    static final int FLOOD = 700;

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
    void runningOutOfFileDescriptorsIsLoggedOncePerIntervalAndTheNodeRecovers() throws Exception {
        node = SpreadProcess.startWithFileLimit(
                tmp,
                tmp.resolve("store"),
                FreePorts.next(),
                Map.of("JAVA_OPTS", "-Xmx256m -Dspreadosd.clients.rpc.max-connections=5000"),
                512);
        node.awaitReady();
        call("before");
        for (int i = 0; i < FLOOD; i++) {
            Socket s = new Socket();
            s.bind(new InetSocketAddress("127.0.0." + (2 + i % 4), 0));
            flood.add(s);
            try {
                s.connect(new InetSocketAddress("127.0.0.1", node.rpcPort), 2_000);
            } catch (SocketTimeoutException backlogFull) {
                break; // the node accepts no more and its listen backlog is full
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!node.log().contains("Too many open files")) {
            assertTrue(System.nanoTime() < deadline, "the node never ran out of file descriptors; fds: " + fds());
            Thread.sleep(200);
        }
        Thread.sleep(5_000); // the listener fails its accepts all this while
        long size = Files.size(node.log);
        String log = node.log();
        long acceptLines = log.lines().filter(l -> l.contains("ccept")).count();
        long traceLines = log.lines().filter(l -> l.startsWith("\tat ")).count();
        System.out.println("log after 5 s out of file descriptors: " + size + " bytes, " + acceptLines
                + " lines about accepting, " + traceLines + " stack trace lines");
        assertTrue(acceptLines <= 3, acceptLines + " lines about failed accepts");
        assertEquals(0, traceLines, "no stack trace");
        assertTrue(size < 200_000, "log of " + size + " bytes");
        for (Socket s : flood) {
            s.close();
        }
        flood.clear();
        long recovered = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                call("after");
                break;
            } catch (IOException notYet) {
                assertTrue(System.nanoTime() < recovered, "no answer a minute after the flood left: " + notYet);
                Thread.sleep(500);
            }
        }
    }

    private void call(String key) throws IOException {
        try (RpcConnection c = new RpcConnection("127.0.0.1", node.rpcPort, 10_000)) {
            c.call("add_data", key, new byte[] {1, 2, 3});
            Value got = c.call("get_data", key);
            assertEquals(3, got.asRawValue().asByteArray().length);
        }
    }

    private long fds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + node.process.pid() + "/fd"))) {
            return fds.count();
        }
    }
}
