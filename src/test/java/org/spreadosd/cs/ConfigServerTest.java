package org.spreadosd.cs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;

/** The config server's protocol. Every message is serialized, as it would be between cluster nodes. */
class ConfigServerTest {
    static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString("""
            pekko.actor.provider = local
            pekko.actor.serialize-messages = on
            """).withFallback(ConfigFactory.load()));

    @AfterAll
    static void stop() {
        kit.shutdownTestKit();
    }

    static NodeInfo node(int nid, int rsid, String address) {
        return new NodeInfo(nid, "ds" + nid, address, List.of(rsid), "subnet-127.000.000", "http://" + address, null);
    }

    @Test
    void registrationsReachSubscribers() {
        ActorRef<ConfigServer.Command> cs = kit.spawn(ConfigServer.create());
        TestProbe<ClusterConfig> subscriber = kit.createTestProbe();
        cs.tell(new ConfigServer.Subscribe(subscriber.getRef()));
        assertEquals(0, subscriber.receiveMessage().nodes().size());

        TestProbe<ConfigServer.Registered> reply = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(0, 0, "127.0.0.1:18900"), reply.getRef()));
        assertEquals(0, reply.receiveMessage().nid());
        ClusterConfig after = subscriber.receiveMessage();
        assertEquals(List.of(0), after.nodes().stream().map(NodeInfo::nid).toList());
        assertEquals(List.of(0), after.members(0).stream().map(NodeInfo::nid).toList());
    }

    @Test
    void aKnownNidTakesItsOldPlaceAndRepeatsChangeNothing() {
        ActorRef<ConfigServer.Command> cs = kit.spawn(ConfigServer.create());
        TestProbe<ConfigServer.Registered> reply = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(1, 0, "127.0.0.1:18901"), reply.getRef()));
        long first = reply.receiveMessage().revision();
        cs.tell(new ConfigServer.RegisterNode(node(1, 0, "127.0.0.1:18901"), reply.getRef()));
        assertEquals(first, reply.receiveMessage().revision(), "the same registration again is no change");
        cs.tell(new ConfigServer.RegisterNode(node(1, 0, "127.0.0.1:28901"), reply.getRef()));
        assertTrue(reply.receiveMessage().revision() > first);
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.GetConfig(probe.getRef()));
        ClusterConfig config = probe.receiveMessage();
        assertEquals(1, config.nodes().size());
        assertEquals("127.0.0.1:28901", config.nodes().get(0).address());
    }

    @Test
    void weightsSetAndReset() {
        ActorRef<ConfigServer.Command> cs = kit.spawn(ConfigServer.create());
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.SetWeight(2, 0, probe.getRef()));
        assertEquals(0, probe.receiveMessage().weight(2));
        cs.tell(new ConfigServer.SetWeight(2, null, probe.getRef()));
        assertEquals(ClusterConfig.DEFAULT_WEIGHT, probe.receiveMessage().weight(2));
    }
}
