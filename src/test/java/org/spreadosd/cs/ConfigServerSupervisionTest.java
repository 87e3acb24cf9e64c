package org.spreadosd.cs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;

/**
 * The config server meets a failure and goes on: a journal write that fails, and a command handler that
 * throws. Each time it restarts with backoff, logs one line, recovers its state from the journal, keeps its
 * subscribers and takes the next change. Every message is serialized, as between cluster nodes.
 */
class ConfigServerSupervisionTest {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final PersistenceId ID = PersistenceId.ofUniqueId("spread-config-supervised");

    final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString("""
                    pekko.actor.provider = local
                    pekko.actor.serialize-messages = on
                    pekko.actor.testkit.typed.filter-leeway = 20s
                    """)
            .withFallback(PersistenceTestKitPlugin.getInstance().config())
            .withFallback(PersistenceTestKitSnapshotPlugin.getInstance().config())
            .withFallback(ConfigFactory.load()));
    final PersistenceTestKit journal = PersistenceTestKit.create(kit.system());

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    static NodeInfo node(int nid, String address, String clusterAddress) {
        return new NodeInfo(
                nid, "ds" + nid, address, List.of(0), "subnet-127.000.000", "http://" + address, null, clusterAddress);
    }

    @Test
    void aFailedJournalWriteRestartsTheConfigServerWhichRecoversAndTakesTheNextChange() {
        ActorRef<ConfigServer.Command> cs =
                kit.spawn(ConfigServer.create(ID, address -> false, ConfigServerTest.BACKOFF), "config-server");
        TestProbe<ConfigServer.Registered> registered = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(1, "127.0.0.1:18901", "127.0.0.1:20901"), registered.getRef()));
        assertEquals(null, registered.receiveMessage(WAIT).refusal());
        TestProbe<ClusterConfig> subscriber = kit.createTestProbe();
        cs.tell(new ConfigServer.Subscribe(subscriber.getRef()));
        assertTrue(subscriber.receiveMessage(WAIT).node(1).isPresent());

        TestProbe<StatusReply<ClusterConfig>> lost = kit.createTestProbe();
        journal.failNextPersisted();
        LoggingTestKit.warn("config server could not journal a change at revision")
                .expect(kit.system(), () -> {
                    cs.tell(new ConfigServer.SetWeight(0, 30, lost.getRef()));
                    return null;
                });
        lost.expectNoMessage(Duration.ofMillis(300));

        ClusterConfig after = change(cs, r -> new ConfigServer.SetWeight(0, 40, r));
        assertEquals(40, after.weight(0));
        assertTrue(after.node(1).isPresent(), "the registration was recovered from the journal");
        assertEquals(after, subscriber.receiveMessage(WAIT), "the subscriber was kept");
    }

    @Test
    void aThrowingCommandHandlerRestartsTheConfigServerWhichKeepsItsSubscribers() {
        AtomicBoolean thrown = new AtomicBoolean();
        Predicate<String> explodesOnce = address -> {
            if (thrown.compareAndSet(false, true)) {
                throw new IllegalStateException("membership lookup exploded");
            }
            return false;
        };
        ActorRef<ConfigServer.Command> cs =
                kit.spawn(ConfigServer.create(ID, explodesOnce, ConfigServerTest.BACKOFF), "config-server");
        TestProbe<ConfigServer.Registered> registered = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(1, "127.0.0.1:18901", "127.0.0.1:20901"), registered.getRef()));
        assertEquals(null, registered.receiveMessage(WAIT).refusal());
        TestProbe<ClusterConfig> subscriber = kit.createTestProbe();
        cs.tell(new ConfigServer.Subscribe(subscriber.getRef()));
        subscriber.receiveMessage(WAIT);

        LoggingTestKit.warn("actor config-server failed handling RegisterNode")
                .withMessageContains("membership lookup exploded")
                .expect(kit.system(), () -> {
                    // nid 1 on another cluster address: whether its holder is alive is asked, and that throws
                    cs.tell(new ConfigServer.RegisterNode(
                            node(1, "127.0.0.1:18905", "127.0.0.1:20905"), registered.getRef()));
                    return null;
                });

        ClusterConfig after = change(cs, r -> new ConfigServer.SetWeight(0, 40, r));
        assertEquals(40, after.weight(0));
        assertEquals("127.0.0.1:18901", after.node(1).orElseThrow().address(), "recovered from the journal");
        assertEquals(after, subscriber.receiveMessage(WAIT), "the subscriber was kept");
    }

    /** Sends a change (held by the supervisor while a restart waits), expects it done and answers the configuration after it. */
    ClusterConfig change(
            ActorRef<ConfigServer.Command> cs,
            Function<ActorRef<StatusReply<ClusterConfig>>, ConfigServer.Command> message) {
        TestProbe<StatusReply<ClusterConfig>> reply = kit.createTestProbe();
        cs.tell(message.apply(reply.getRef()));
        StatusReply<ClusterConfig> answer = reply.receiveMessage(WAIT);
        assertTrue(answer.isSuccess(), () -> "refused: " + answer);
        return answer.getValue();
    }
}
