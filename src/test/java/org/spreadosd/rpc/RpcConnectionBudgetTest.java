package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.management.JMException;
import javax.management.ObjectName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.msgpack.value.Value;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * The byte budget of one RPC connection (spreadosd.rpc.max-in-flight-bytes-per-connection), over a real socket:
 * a client that pipelines far more than the budget is slowed, not refused, and the connection's figures (the
 * RpcConnections MBean) show it never held more than the budget.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RpcConnectionBudgetTest {
    static final long BUDGET = 4 << 20;
    static final int READ_CHUNK = 128 << 10;

    @RegisterExtension
    static final StandaloneNodeExtension standalone =
            new StandaloneNodeExtension(Map.of("spreadosd.rpc.max-in-flight-bytes-per-connection", BUDGET));

    @Test
    @Order(1)
    void pipelinedLargeAddsAreAllAnsweredWithinTheBudget() throws Exception {
        int count = 40;
        byte[] data = new byte[1 << 20];
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            // The writer blocks whenever the server stops reading; the answers are read meanwhile.
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < count; i++) {
                        String key = "budget-" + i;
                        c.send(RpcClient.request(
                                i,
                                "add_data",
                                true,
                                p -> uncheck(() -> {
                                    p.packArrayHeader(2).packString(key);
                                    p.packBinaryHeader(data.length).writePayload(data);
                                })));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < count; i++) {
                List<Value> answer = c.receive().asArrayValue().list();
                assertTrue(answer.get(2).isNilValue(), "error: " + answer.get(2));
                answered.add(answer.get(1).asIntegerValue().toLong());
            }
            writer.get(60, TimeUnit.SECONDS);
            assertEquals(count, answered.size(), "every msgid answered once");
        }
        long peak = attribute("PeakHeldBytesPerConnection");
        assertTrue(peak <= BUDGET, "the connection held " + peak + " bytes, more than its budget of " + BUDGET);
        assertTrue(peak >= BUDGET / 2, "the budget was used (held at most " + peak + ")");
        assertTrue(attribute("BudgetPauses") > 0, "reading paused at the budget");
    }

    /** Runs second: the peak it leaves is above the budget by design. */
    @Test
    @Order(2)
    void aMessageLargerThanTheBudgetIsServedAlone() throws Exception {
        byte[] data = new byte[(int) BUDGET + (2 << 20)];
        try (RpcClient c = new RpcClient(standalone.node().rpcPort())) {
            for (int i = 0; i < 2; i++) {
                String key = "over-budget-" + i;
                c.send(RpcClient.request(
                        i,
                        "add_data",
                        true,
                        p -> uncheck(() -> {
                            p.packArrayHeader(2).packString(key);
                            p.packBinaryHeader(data.length).writePayload(data);
                        })));
            }
            for (int i = 0; i < 2; i++) {
                List<Value> answer = c.receive().asArrayValue().list();
                assertTrue(answer.get(2).isNilValue(), "error: " + answer.get(2));
            }
            c.send(RpcClient.request(
                    9, "get_data", true, p -> uncheck(() -> p.packArrayHeader(1).packString("over-budget-1"))));
            List<Value> read = c.receive().asArrayValue().list();
            assertEquals(data.length, read.get(3).asRawValue().asByteArray().length);
        }
        long peak = attribute("PeakHeldBytesPerConnection");
        assertTrue(
                peak <= data.length + 2L * READ_CHUNK + 64,
                "one message over the budget is held alone, not two (" + peak + " bytes)");
    }

    static long attribute(String name) throws JMException {
        ObjectName bean = new ObjectName(
                "org.spreadosd:type=RpcConnections,port=" + standalone.node().rpcPort());
        return ((Number) ManagementFactory.getPlatformMBeanServer().getAttribute(bean, name)).longValue();
    }

    interface IoAction {
        void run() throws IOException;
    }

    static void uncheck(IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
