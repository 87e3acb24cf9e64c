package org.spreadosd.cs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.CborSerializable;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.util.Supervised;

/** The config server's protocol. Every message is serialized, as it would be between cluster nodes. */
class ConfigServerTest {
    static final Supervised.Backoff BACKOFF = new Supervised.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 0);
    static final Path snapshots = tempDir();
    static final ActorTestKit kit = ActorTestKit.create(ConfigFactory.parseString("""
            pekko.actor.provider = local
            pekko.actor.serialize-messages = on
            pekko.persistence.journal.plugin = "pekko.persistence.journal.inmem"
            pekko.persistence.journal.inmem.test-serialization = on
            pekko.persistence.snapshot-store.plugin = "pekko.persistence.snapshot-store.local"
            """)
            .withFallback(
                    ConfigFactory.parseMap(Map.of("pekko.persistence.snapshot-store.local.dir", snapshots.toString())))
            .withFallback(ConfigFactory.load()));

    static Path tempDir() {
        try {
            return Files.createTempDirectory("spread-cs-snapshots");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() throws IOException {
        kit.shutdownTestKit();
        try (var files = Files.walk(snapshots)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static final AtomicInteger journals = new AtomicInteger();
    /** Each test has its own journal: the in-memory journal lives as long as the test kit. */
    final PersistenceId id = PersistenceId.ofUniqueId("spread-config-" + journals.incrementAndGet());

    /** Cluster addresses the test declares up and reachable. */
    final Set<String> reachable = ConcurrentHashMap.newKeySet();

    ActorRef<ConfigServer.Command> configServer() {
        return kit.spawn(ConfigServer.create(id, reachable::contains, BACKOFF));
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
        ClusterConfig before = change(first, r -> new ConfigServer.SetWeight(3, 25, r));
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
            int weight = i;
            change(cs, r -> new ConfigServer.SetWeight(1, weight, r));
        }
        kit.stop(cs);
        try (var files = Files.list(snapshots)) {
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
        assertEquals(Set.of(4), subscriber.receiveMessage().fault());
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
        assertEquals(
                "jdbc:postgresql://db/spread",
                change(cs, r -> new ConfigServer.SetMds("jdbc:postgresql://db/spread", null, r))
                        .mdsUri());
        ClusterConfig both = change(cs, r -> new ConfigServer.SetMds(null, "local:10000", r));
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
        assertEquals(0, change(cs, r -> new ConfigServer.SetWeight(2, 0, r)).weight(2));
        assertEquals(
                ClusterConfig.DEFAULT_WEIGHT,
                change(cs, r -> new ConfigServer.SetWeight(2, null, r)).weight(2));
    }

    /** Sends a change, expects it to be done and answers the configuration after it. */
    static ClusterConfig change(
            ActorRef<ConfigServer.Command> cs,
            Function<ActorRef<StatusReply<ClusterConfig>>, ConfigServer.Command> message) {
        TestProbe<StatusReply<ClusterConfig>> reply = kit.createTestProbe();
        cs.tell(message.apply(reply.getRef()));
        StatusReply<ClusterConfig> answer = reply.receiveMessage();
        assertTrue(answer.isSuccess(), () -> "refused: " + answer);
        return answer.getValue();
    }

    /** Sends a change, expects it refused and answers the reason. */
    static String refusal(
            ActorRef<ConfigServer.Command> cs,
            Function<ActorRef<StatusReply<ClusterConfig>>, ConfigServer.Command> message) {
        TestProbe<StatusReply<ClusterConfig>> reply = kit.createTestProbe();
        cs.tell(message.apply(reply.getRef()));
        StatusReply<ClusterConfig> answer = reply.receiveMessage();
        assertTrue(answer.isError(), () -> "accepted: " + answer);
        return answer.getError().getMessage();
    }

    static ClusterConfig config(ActorRef<ConfigServer.Command> cs) {
        TestProbe<ClusterConfig> probe = kit.createTestProbe();
        cs.tell(new ConfigServer.GetConfig(probe.getRef()));
        return probe.receiveMessage();
    }

    @Test
    void aChangeNoNodeCouldUseIsRefusedNothingIsJournaledAndRecoveryWorks() {
        ActorRef<ConfigServer.Command> cs = configServer();
        change(cs, r -> new ConfigServer.SetWeight(1, 20, r));
        ClusterConfig before = config(cs);

        assertTrue(
                refusal(cs, r -> new ConfigServer.SetWritePolicy(1, "garbage", r))
                        .contains(
                                "write policy must be all-reachable, all-reachable:K (K >= 1 copies at least), majority or a number of copies >= 1, not 'garbage'"));
        assertTrue(refusal(cs, r -> new ConfigServer.SetWritePolicy(1, "0", r)).contains("not '0'"));
        assertTrue(
                refusal(cs, r -> new ConfigServer.SetWeight(1, -1, r)).contains("weight must not be negative, got -1"));
        assertTrue(refusal(cs, r -> new ConfigServer.SetWeight(-3, 5, r)).contains("rsid must not be negative"));
        assertTrue(refusal(cs, r -> new ConfigServer.SetMds("mysql://db?password=secret", null, r))
                .contains("unsupported metadata store URI 'mysql://db?password=***'"));
        TestProbe<ConfigServer.Registered> registered = kit.createTestProbe();
        cs.tell(new ConfigServer.RegisterNode(node(-2, 0, "127.0.0.1:18902"), registered.getRef()));
        assertTrue(registered.receiveMessage().refusal().contains("nid must not be negative"));
        cs.tell(new ConfigServer.RegisterNode(
                new NodeInfo(3, "ds3", "127.0.0.1:18903", List.of(), "here", "http://127.0.0.1:19903", null),
                registered.getRef()));
        assertTrue(registered.receiveMessage().refusal().contains("needs one or more rsids"));

        assertEquals(before, config(cs), "the config server still answers, and nothing changed");
        kit.stop(cs);
        ActorRef<ConfigServer.Command> again = configServer();
        assertEquals(before, config(again), "nothing refused was journaled");
        assertEquals(
                "majority",
                change(again, r -> new ConfigServer.SetWritePolicy(1, "majority", r))
                        .writePolicy(1)
                        .text());
        kit.stop(again);
    }

    /** A config server of an older version, which journaled a write policy this version no longer knows. */
    record JournalPolicy(String policy, ActorRef<String> replyTo) implements CborSerializable {}

    static Behavior<JournalPolicy> olderConfigServer(PersistenceId id) {
        return new EventSourcedBehavior<JournalPolicy, ConfigServer.Event, String>(id) {
            @Override
            public String emptyState() {
                return "";
            }

            @Override
            public CommandHandler<JournalPolicy, ConfigServer.Event, String> commandHandler() {
                return newCommandHandlerBuilder()
                        .forAnyState()
                        .onAnyCommand(m -> Effect()
                                .persist(new ConfigServer.WritePolicyChanged(1, m.policy()))
                                .thenRun(state -> m.replyTo().tell("journaled")));
            }

            @Override
            public EventHandler<String, ConfigServer.Event> eventHandler() {
                return newEventHandlerBuilder().forAnyState().onAnyEvent((state, e) -> state);
            }
        };
    }

    @Test
    void recoverySkipsAJournaledEventThatNoLongerApplies() {
        ActorRef<ConfigServer.Command> cs = configServer();
        change(cs, r -> new ConfigServer.SetWeight(1, 10, r));
        kit.stop(cs);
        ActorRef<JournalPolicy> older = kit.spawn(olderConfigServer(id));
        TestProbe<String> journaled = kit.createTestProbe();
        older.tell(new JournalPolicy("two-thirds", journaled.getRef()));
        journaled.expectMessage("journaled");
        kit.stop(older);
        ActorRef<ConfigServer.Command> between = configServer();
        change(between, r -> new ConfigServer.SetWeight(1, 20, r));
        kit.stop(between);

        Logger csLog = (Logger) LoggerFactory.getLogger(ConfigServer.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        csLog.addAppender(logged);
        try {
            ActorRef<ConfigServer.Command> recovered = configServer();
            assertEquals(20, config(recovered).weight(1), "the events before and after the skipped one apply");
            kit.stop(recovered);
        } finally {
            csLog.detachAppender(logged);
        }
        List<String> errors = logged.list.stream()
                .filter(e -> e.getLevel() == Level.ERROR)
                .map(ILoggingEvent::getFormattedMessage)
                .toList();
        assertEquals(1, errors.size(), errors::toString);
        assertTrue(errors.get(0).startsWith("skipping journal event seqNr=2 WritePolicyChanged"), errors::toString);
        ActorRef<ConfigServer.Command> again = configServer();
        assertEquals(
                "majority",
                change(again, r -> new ConfigServer.SetWritePolicy(1, "majority", r))
                        .writePolicy(1)
                        .text(),
                "the recovered config server takes changes");
    }
}
