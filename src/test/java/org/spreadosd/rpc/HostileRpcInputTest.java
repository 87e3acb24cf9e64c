package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.value.Value;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * Messages built to hurt the decoder, over a real socket (issue 13): a request nested thousands deep, one
 * declaring more values than a message may hold, and a huge array of one-byte values sent in small writes. Each
 * is refused or framed at a bounded cost, and the node goes on serving.
 */
class HostileRpcInputTest {
    static final long MAX_ELEMENTS = 20_000_000;

    @RegisterExtension
    static final StandaloneNodeExtension standalone =
            new StandaloneNodeExtension(Map.of("spreadosd.clients.rpc.max-elements", MAX_ELEMENTS));

    @Test
    void aRequestNested3000DeepIsRefusedAndTheNodeLives() throws Exception {
        refusesNesting(3_000);
    }

    @Test
    void aRequestNested10000DeepIsRefusedAndTheNodeLives() throws Exception {
        refusesNesting(10_000);
    }

    private static void refusesNesting(int depth) throws Exception {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(new byte[] {(byte) 0x94, 0x00, 0x07, (byte) 0xa3});
        request.writeBytes("get".getBytes(StandardCharsets.US_ASCII));
        byte[] nest = new byte[depth];
        Arrays.fill(nest, (byte) 0x91);
        request.writeBytes(nest);
        request.write(0xc0);
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            c.send(request.toByteArray());
            List<Value> answer = c.receive().asArrayValue().list();
            assertEquals(1, answer.get(0).asIntegerValue().toInt());
            assertEquals(7, answer.get(1).asIntegerValue().toLong());
            String error = answer.get(2).asStringValue().asString();
            assertTrue(error.contains("spreadosd.clients.rpc.max-nesting-depth"), error);
            assertTrue(answer.get(3).isNilValue());
            assertClosed(c);
        }
        assertServes();
    }

    @Test
    void aMessageDeclaringMoreValuesThanTheLimitIsRefusedFromItsHeader() throws Exception {
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            // [0, 8, "get", [array32 of MAX_ELEMENTS + 1 values ...]]: only the header is sent
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.writeBytes(new byte[] {(byte) 0x94, 0x00, 0x08, (byte) 0xa3, 'g', 'e', 't', (byte) 0x91});
            request.write(0xdd);
            long n = MAX_ELEMENTS + 1;
            request.writeBytes(new byte[] {(byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
            c.send(request.toByteArray());
            List<Value> answer = c.receive().asArrayValue().list();
            assertEquals(8, answer.get(1).asIntegerValue().toLong());
            String error = answer.get(2).asStringValue().asString();
            assertTrue(error.contains("spreadosd.clients.rpc.max-elements"), error);
            assertClosed(c);
        }
        assertServes();
    }

    /**
     * 8 MiB of one-byte values in 64 KiB writes: the framer that scanned the buffer again on every read took 13 CPU
     * seconds for this (78 for 16 MiB); each byte looked at once takes well under a second.
     */
    @Test
    void aHugeArrayOfOneByteValuesInSmallWritesIsFramedInLinearTime() throws Exception {
        int n = 8 << 20;
        byte[] head = {
            (byte) 0x94,
            0x00,
            0x09,
            (byte) 0xa3,
            'g',
            'e',
            't',
            (byte) 0x91,
            (byte) 0xdd,
            (byte) (n >>> 24),
            (byte) (n >>> 16),
            (byte) (n >>> 8),
            (byte) n
        };
        byte[] nils = new byte[64 << 10];
        Arrays.fill(nils, (byte) 0xc0);
        assertTimeoutPreemptively(Duration.ofSeconds(8), () -> {
            try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
                c.send(head);
                for (int sent = 0; sent < n; sent += nils.length) {
                    c.send(nils);
                }
                List<Value> answer = c.receive().asArrayValue().list();
                assertEquals(9, answer.get(1).asIntegerValue().toLong());
                assertTrue(!answer.get(2).isNilValue(), "get with an array for a key is an error");
            }
        });
        assertServes();
    }

    /** The server closed the connection after its answer. */
    static void assertClosed(RpcClient c) throws IOException {
        InputStream in = c.socket().getInputStream();
        assertEquals(-1, in.read(), "connection closed after the refusal");
    }

    /** A normal add and get on a new connection. */
    static void assertServes() throws Exception {
        try (RpcConnection c = new RpcConnection("127.0.0.1", standalone.node().rpcPort(), 30_000)) {
            byte[] data = "still serving".getBytes(StandardCharsets.UTF_8);
            c.call("add_data", "alive", data);
            Value got = c.call("get_data", "alive");
            assertEquals("still serving", new String(got.asRawValue().asByteArray(), StandardCharsets.UTF_8));
        }
    }
}
