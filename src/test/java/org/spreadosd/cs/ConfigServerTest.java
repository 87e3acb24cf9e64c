package org.spreadosd.cs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
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
    static final Path snapshots = tempDir();
    static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString("""
            pekko.actor.provider = local
            pekko.actor.serialize-messages = on
            pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
            pekko.persistence.journal.inmem.test-serialization = on
            pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
            """)
            .withFallback(ConfigFactory.parseMap(
                    java.util.Map.of("pekko.persistence.snapshot-store.local.dir", snapshots.toString())))
            .withFallback(ConfigFactory.load()));

    static Path tempDir() {
        try {
            return java.nio.file.Files.createTempDirectory("spread-cs-snapshots");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() throws java.io.IOException {
        kit.shutdownTestKit();
        try (var files = java.nio.file.Files.walk(snapshots)) {
            files.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }

    static final java.util.concurrent.atomic.AtomicInteger journals = new java.util.concurrent.atomic.AtomicInteger();
    /** Each test has its own journal: the in-memory journal lives as long as the test kit. */
    final org.apache.pekko.persistence.typed.PersistenceId id =
            org.apache.pekko.persistence.typed.PersistenceId.ofUniqueId("spread-config-" + journals.incrementAndGet());

    /** Cluster addresses the test declares up and reachable. */
    final java.util.Set<String> reachable = java.util.concurrent.ConcurrentHashMap.newKeySet();

    ActorRef<ConfigServer.Command> configServer() {
        return kit.spawn(ConfigServer.create(id, reachable::contains));
    }

    static NodeInfo member(int nid, String address, String clusterAddress) {
        return new NodeInfo(
                nid, "ds" + nid, address, List.of(0), "subnet-127.000.000", "http://" + address, null, clusterAddress);
    }

    @Test
    void aNidHeldByAnotherLiveNodeIsRefusedUntilThatNodeIsGone() {
        ActorRef<ConfigServer.Command> cs = configServer();
        TestProbe<ConfigServer.Registered> reply = kit.createTestProbe();
        reachable.add("127.0.0.1:20901");
        cs.tell(new ConfigServer.RegisterNode(member(1, "127.0.0.1:18901", "127.0.0.1:20901"), reply.getRef()));
        assertEquals(null, reply.receiveMessage().refusal());

        cs.tell(new ConfigServer.RegisterNode(member(1, "127.0.0.1:18905", "127.0.0.1:20905"), reply.getRef()));
        String refusal = reply.receiveMessage().refusal();
        assertTrue(
                refusal != null && refusal.contains("nid 1 is held by the live node ds1 at 127.0.0.1:18901"), refusal);

        cs.tell(new ConfigServer.RegisterNode(member(1, "127.0.0.1:18901", "127.0.0.1:20901"), reply.getRef()));
        assertEquals(null, reply.receiveMessage().refusal(), "the holder itself may register again");

        reachable.remove("127.0.0.1:20901");
        cs.tell(new ConfigServer.RegisterNode(member(1, "127.0.0.1:18905", "127.0.0.1:20905"), reply.getRef()));
        assertEquals(
                null, reply.receiveMessage().refusal(), "once the holder is down, the nid moves to the new address");
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.GetConfig(probe.getRef()));
        assertEquals(
                "127.0.0.1:20905", probe.receiveMessage().node(1).orElseThrow().clusterAddress());
    }

    static NodeInfo node(int nid, int rsid, String address) {
        return new NodeInfo(nid, "ds" + nid, address, List.of(rsid), "subnet-127.000.000", "http://" + address, null);
    }

    @Test
    void registrationsReachSubscribers() {
        ActorRef<ConfigServer.Command> cs = configServer();
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
        ActorRef<ConfigServer.Command> cs = configServer();
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
    void aRestartedConfigServerRecoversItsConfigurationFromTheJournal() {
        ActorRef<ConfigServer.Command> first = configServer();
        TestProbe<ConfigServer.Registered> reply = kit.createTestProbe();
        first.tell(new ConfigServer.RegisterNode(node(7, 3, "127.0.0.1:18907"), reply.getRef()));
        reply.receiveMessage();
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        first.tell(new ConfigServer.SetWeight(3, 25, probe.getRef()));
        ClusterConfig before = probe.receiveMessage();
        kit.stop(first);

        ActorRef<ConfigServer.Command> second = configServer();
        second.tell(new ConfigServer.GetConfig(probe.getRef()));
        ClusterConfig after = probe.receiveMessage();
        assertEquals(before, after);
        assertEquals(25, after.weight(3));
        assertTrue(after.node(7).isPresent());
        kit.stop(second);
    }

    @Test
    void snapshotsAreTakenEveryHundredEvents() throws Exception {
        ActorRef<ConfigServer.Command> cs = configServer();
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        for (int i = 0; i < ConfigServer.SNAPSHOT_EVERY; i++) {
            cs.tell(new ConfigServer.SetWeight(1, i, probe.getRef()));
            probe.receiveMessage();
        }
        kit.stop(cs);
        try (var files = java.nio.file.Files.list(snapshots)) {
            assertTrue(
                    files.anyMatch(f -> f.getFileName().toString().startsWith("snapshot-" + id.id())),
                    "a snapshot file");
        }
        ActorRef<ConfigServer.Command> again = configServer();
        again.tell(new ConfigServer.GetConfig(probe.getRef()));
        assertEquals(ConfigServer.SNAPSHOT_EVERY - 1, probe.receiveMessage().weight(1), "recovered from the snapshot");
        kit.stop(again);
    }

    @Test
    void onlyAFaultNodeCanBeRemoved() {
        ActorRef<ConfigServer.Command> cs = configServer();
        TestProbe<ConfigServer.Registered> registered = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(4, 1, "127.0.0.1:18904"), registered.getRef()));
        registered.receiveMessage();
        TestProbe<ConfigServer.Outcome> outcome = kit.createTestProbe();
        cs.tell(new ConfigServer.RemoveNode(4, outcome.getRef()));
        assertTrue(outcome.receiveMessage().error().contains("is active"));
        cs.tell(new ConfigServer.RemoveNode(99, outcome.getRef()));
        assertTrue(outcome.receiveMessage().error().contains("no node with nid 99"));

        TestProbe<ClusterConfig> subscriber = kit.createTestProbe();
        cs.tell(new ConfigServer.Subscribe(subscriber.getRef()));
        subscriber.receiveMessage();
        cs.tell(new ConfigServer.SetFault(4, true));
        assertEquals(java.util.Set.of(4), subscriber.receiveMessage().fault());
        cs.tell(new ConfigServer.RemoveNode(4, outcome.getRef()));
        assertEquals(null, outcome.receiveMessage().error());
        ClusterConfig after = subscriber.receiveMessage();
        assertTrue(after.node(4).isEmpty());
        assertTrue(after.fault().isEmpty());
    }

    @Test
    void aReturningNodeClearsItsFaultMark() {
        ActorRef<ConfigServer.Command> cs = configServer();
        TestProbe<ConfigServer.Registered> registered = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(5, 1, "127.0.0.1:18905"), registered.getRef()));
        registered.receiveMessage();
        cs.tell(new ConfigServer.SetFault(5, true));
        cs.tell(new ConfigServer.RegisterNode(node(5, 1, "127.0.0.1:18905"), registered.getRef()));
        registered.receiveMessage();
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.GetConfig(probe.getRef()));
        assertTrue(probe.receiveMessage().fault().isEmpty());
    }

    @Test
    void mdsUrisAreJournaled() {
        ActorRef<ConfigServer.Command> cs = configServer();
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.SetMds("jdbc:postgresql://db/spread", null, probe.getRef()));
        assertEquals("jdbc:postgresql://db/spread", probe.receiveMessage().mdsUri());
        cs.tell(new ConfigServer.SetMds(null, "local:10000", probe.getRef()));
        ClusterConfig both = probe.receiveMessage();
        assertEquals("jdbc:postgresql://db/spread", both.mdsUri());
        assertEquals("local:10000", both.mdsCacheUri());
        kit.stop(cs);
        ActorRef<ConfigServer.Command> again = configServer();
        again.tell(new ConfigServer.GetConfig(probe.getRef()));
        assertEquals(both, probe.receiveMessage());
    }

    @Test
    void weightsSetAndReset() {
        ActorRef<ConfigServer.Command> cs = configServer();
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.SetWeight(2, 0, probe.getRef()));
        assertEquals(0, probe.receiveMessage().weight(2));
        cs.tell(new ConfigServer.SetWeight(2, null, probe.getRef()));
        assertEquals(ClusterConfig.DEFAULT_WEIGHT, probe.receiveMessage().weight(2));
    }
}
