package org.spreadosd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.value.Value;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ConfigCopy;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.TestNode;

/**
 * A real standalone node whose configuration subscriber fails while it takes in a change made over
 * MessagePack-RPC (a listener of the node's view throws once): the subscriber restarts, the node's view and
 * its copy on disk still get that change and the next one.
 */
class NodeSupervisionTest {
    @TempDir
    Path dir;

    @Test
    void aNodeFollowsItsConfigurationAfterItsSubscriberFailed() throws Exception {
        try (TestNode node = TestNode.standalone(dir.resolve("node"));
                RpcClient rpc = new RpcClient(node.rpcPort())) {
            AtomicBoolean thrown = new AtomicBoolean();
            node.node().view().onChange(c -> {
                if (c.weight(0) == 25 && thrown.compareAndSet(false, true)) {
                    throw new IllegalStateException("listener exploded");
                }
            });
            LoggingTestKit.warn("actor cluster-view failed")
                    .withMessageContains("listener exploded")
                    .expect(node.node().system(), () -> setWeight(rpc, 1, 25));
            ConfigCopy copy = new ConfigCopy(dir.resolve("node"));
            waitUntil(() -> savedWeight(copy) == 25, "the change that met the failure saved on disk");

            setWeight(rpc, 2, 35);
            waitUntil(() -> node.node().view().config().weight(0) == 35, "the next change in the view");
            waitUntil(() -> savedWeight(copy) == 35, "the next change saved on disk");
            assertTrue(thrown.get());
        }
    }

    private static Value setWeight(RpcClient rpc, long msgid, int weight) {
        try {
            rpc.send(RpcClient.request(msgid, "set_replset_weight", true, p -> {
                try {
                    p.packArrayHeader(2).packInt(0).packInt(weight);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }));
            Value answer = rpc.receive();
            assertEquals("nil", answer.asArrayValue().get(2).toString().replace("null", "nil"), answer.toString());
            return answer;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int savedWeight(ConfigCopy copy) {
        return copy.load(LoggerFactory.getLogger("test")).map(c -> c.weight(0)).orElse(ClusterConfig.DEFAULT_WEIGHT);
    }

    private static void waitUntil(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(50);
        }
    }
}
