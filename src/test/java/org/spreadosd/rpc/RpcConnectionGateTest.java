package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * The RPC port's connection limit (spreadosd.clients.rpc.max-connections) over real sockets: at the limit, a new
 * client is admitted by closing a connection that has no call in progress, idle or stalled in the middle of a
 * message, so that a crowd of connections that each sent a byte does not lock out everyone else.
 */
class RpcConnectionGateTest {
    static final int LIMIT = 20;

    @RegisterExtension
    static final StandaloneNodeExtension standalone =
            new StandaloneNodeExtension(Map.of("spreadosd.clients.rpc.max-connections", LIMIT));

    @Test
    void aNewClientIsAdmittedAtTheLimitByClosingAStalledConnection() throws Exception {
        List<Socket> crowd = new ArrayList<>();
        try {
            for (int i = 0; i < LIMIT; i++) {
                Socket s = new Socket("127.0.0.1", standalone.node().rpcPort());
                s.getOutputStream().write(0x94); // the first byte of a request, never the rest
                crowd.add(s);
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (NodeClients.get(standalone.node().node().system()).rpcGate().open() < LIMIT) {
                assertTrue(System.nanoTime() < deadline, "the crowd never filled the port");
                Thread.sleep(50);
            }
            Thread.sleep(1_500); // beyond ConnectionPipeline.STALLED
            try (RpcConnection c =
                    new RpcConnection("127.0.0.1", standalone.node().rpcPort(), 10_000)) {
                c.call("add_data", "admitted", new byte[] {7});
                assertEquals(1, c.call("get_data", "admitted").asRawValue().asByteArray().length);
            }
            long closed =
                    crowd.stream().filter(RpcConnectionGateTest::closedByServer).count();
            assertTrue(closed >= 1, "a stalled connection made room");
            assertTrue(
                    NodeClients.get(standalone.node().node().system()).rpcGate().open() <= LIMIT, "the limit holds");
        } finally {
            for (Socket s : crowd) {
                s.close();
            }
        }
    }

    private static boolean closedByServer(Socket s) {
        try {
            s.setSoTimeout(200);
            InputStream in = s.getInputStream();
            return in.read() < 0;
        } catch (IOException e) {
            return !(e instanceof SocketTimeoutException);
        }
    }
}
