package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.value.Value;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * How long the RPC port waits (spreadosd.clients.rpc.idle-timeout, message-min-rate over message-rate-window), over
 * a real socket: an idle connection is closed, a message that trickles is refused with an answer naming the setting,
 * and a connection that goes on calling is kept.
 */
class RpcPatienceTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension(Map.of(
            "spreadosd.clients.rpc.idle-timeout", "2s",
            "spreadosd.clients.rpc.message-min-rate", "1KiB",
            "spreadosd.clients.rpc.message-rate-window", "2s"));

    @Test
    void anIdleConnectionIsClosed() throws Exception {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            assertTimeoutPreemptively(Duration.ofSeconds(15), () -> {
                assertEquals(-1, c.socket().getInputStream().read(), "closed by the node");
            });
        }
    }

    @Test
    void aTricklingMessageIsRefusedNamingTheSetting() throws Exception {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            // [0, 5, "get", ["k... : the msgid is in, the rest comes one byte a second
            c.send(new byte[] {(byte) 0x94, 0x00, 0x05, (byte) 0xa3, 'g', 'e', 't', (byte) 0x91, (byte) 0xaa});
            long start = System.nanoTime();
            Thread trickle = new Thread(() -> {
                try {
                    for (int i = 0; i < 8; i++) {
                        Thread.sleep(1000);
                        c.send(new byte[] {'k'});
                    }
                } catch (Exception closed) {
                    // the node closed the connection
                }
            });
            trickle.start();
            List<Value> answer = c.receive().asArrayValue().list();
            assertEquals(5, answer.get(1).asIntegerValue().toLong());
            String error = answer.get(2).asStringValue().asString();
            assertTrue(error.contains("spreadosd.clients.rpc.message-min-rate"), error);
            assertTrue(System.nanoTime() - start < 8_000_000_000L, "cut before the message was complete");
            InputStream in = c.socket().getInputStream();
            assertEquals(-1, in.read(), "closed after the refusal");
            trickle.join();
        }
    }

    @Test
    void aConnectionInUseIsKept() throws Exception {
        try (RpcConnection c = new RpcConnection("127.0.0.1", standalone.node().rpcPort(), 10_000)) {
            c.call("add_data", "kept", new byte[] {1});
            long end = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < end) {
                Thread.sleep(500);
                assertEquals(1, c.call("get_data", "kept").asRawValue().asByteArray().length);
            }
        }
    }
}
