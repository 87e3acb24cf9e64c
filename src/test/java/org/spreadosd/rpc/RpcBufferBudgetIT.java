package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.testing.SpreadProcess;

/**
 * Issue 13, row 2 scaled down: a node process with a 384 MiB heap and a 128 MiB client buffer budget; eight RPC
 * connections each declare a 100 MiB bin, send 50 MiB of it and stall. Without a node-wide budget the node held
 * 400 MiB and died of OutOfMemoryError; with it the first declaration is reserved, the other seven are refused at
 * once with an answer naming spreadosd.clients.buffer-budget, the node's resident set stays flat, it serves other
 * clients meanwhile, and what a closed connection reserved is free again.
 */
class RpcBufferBudgetIT {
    static final int CONNECTIONS = 8;
    static final int DECLARED = 100 << 20;
    static final int SENT = 50 << 20;

    @TempDir
    Path tmp;

    private SpreadProcess node;

    @AfterEach
    void stop() {
        if (node != null) {
            node.stop();
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void stalledLargeMessagesBeyondTheBudgetAreRefusedAndTheNodeServesOthers() throws Exception {
        node = SpreadProcess.start(
                tmp,
                tmp.resolve("store"),
                FreePorts.next(),
                Map.of(
                        "JAVA_OPTS",
                        "-Xmx384m -Dspreadosd.clients.buffer-budget=128MiB -Dspreadosd.rpc.max-message-size=110MiB"));
        node.awaitReady();
        List<Socket> sockets = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        AtomicInteger refused = new AtomicInteger();
        try {
            for (int i = 0; i < CONNECTIONS; i++) {
                Socket s = new Socket("127.0.0.1", node.rpcPort);
                s.setSoTimeout(20_000);
                sockets.add(s);
                int id = i;
                Thread writer = new Thread(() -> sendAndStall(s, id));
                writer.start();
                writers.add(writer);
            }
            for (Socket s : sockets) {
                Thread reader = new Thread(() -> {
                    String error = answerError(s);
                    if (error != null && error.contains("spreadosd.clients.buffer-budget")) {
                        refused.incrementAndGet();
                    }
                });
                reader.start();
                writers.add(reader);
            }
            for (Thread t : writers) {
                t.join(60_000);
            }
            assertEquals(CONNECTIONS - 1, refused.get(), "all but the first declaration refused for the budget");
            assertTrue(node.process.isAlive(), "the node lives");
            long hwm = statusKib("VmHWM");
            System.out.println("node peak RSS with " + CONNECTIONS + " stalled 100 MiB messages: " + (hwm >> 10)
                    + " MiB, now " + (statusKib("VmRSS") >> 10) + " MiB");
            assertTrue(hwm < 900 << 10, "peak RSS " + (hwm >> 10) + " MiB");
            addAndGet("served-beside-stalled", new byte[1 << 20]);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        // The stalled reservation (100 of the 128 MiB) is released with its connection: 40 MiB fit again. (Whole
        // 100 MiB adds and gets on this heap: RpcLargeObjectIT.)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                addAndGet("after-stalled", new byte[40 << 20]);
                break;
            } catch (IOException e) {
                // refused for the budget (the answer, or a reset while the refused message is still being sent)
                assertTrue(System.nanoTime() < deadline, "budget not released: " + e);
                Thread.sleep(200);
            }
        }
    }

    private static void sendAndStall(Socket s, int id) {
        try {
            OutputStream out = s.getOutputStream();
            byte[] key = ("stalled-" + id).getBytes(StandardCharsets.UTF_8);
            byte[] head = new byte[64];
            int n = 0;
            head[n++] = (byte) 0x94;
            head[n++] = 0;
            head[n++] = (byte) id;
            head[n++] = (byte) 0xa8;
            for (byte b : "add_data".getBytes(StandardCharsets.US_ASCII)) {
                head[n++] = b;
            }
            head[n++] = (byte) 0x92;
            head[n++] = (byte) (0xa0 | key.length);
            System.arraycopy(key, 0, head, n, key.length);
            n += key.length;
            head[n++] = (byte) 0xc6;
            head[n++] = (byte) (DECLARED >>> 24);
            head[n++] = (byte) (DECLARED >>> 16);
            head[n++] = (byte) (DECLARED >>> 8);
            head[n++] = (byte) DECLARED;
            out.write(head, 0, n);
            byte[] chunk = new byte[1 << 20];
            for (int sent = 0; sent < SENT; sent += chunk.length) {
                out.write(chunk);
            }
            out.flush();
        } catch (IOException closedByTheServer) {
            // a refused message's connection is closed while its bytes are still being sent
        }
    }

    /** The error of the first answer on {@code s}, or null when none comes (the stalled, reserved one). */
    private static String answerError(Socket s) {
        try {
            MessageUnpacker in = MessagePack.newDefaultUnpacker(s.getInputStream());
            List<Value> answer = in.unpackValue().asArrayValue().list();
            return answer.get(2).isNilValue()
                    ? ""
                    : answer.get(2).asStringValue().asString();
        } catch (SocketTimeoutException e) {
            return null;
        } catch (IOException e) {
            return "no answer: " + e;
        }
    }

    private void addAndGet(String key, byte[] data) throws IOException {
        assertTrue(node.process.isAlive(), () -> "the node died:\n" + node.log());
        try (RpcConnection c = new RpcConnection("127.0.0.1", node.rpcPort, 30_000)) {
            c.call("add_data", key, data);
            Value got = c.call("get_data", key);
            assertEquals(data.length, got.asRawValue().asByteArray().length);
        }
    }

    private long statusKib(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + node.process.pid() + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException(field + " not in /proc/" + node.process.pid() + "/status");
    }
}
