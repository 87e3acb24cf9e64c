package org.spreadosd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.ConfigCopy;
import org.spreadosd.cluster.MembershipTracker;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.cs.ConfigSubscriber;
import org.spreadosd.cs.FaultMarker;
import org.spreadosd.cs.NodeRegistration;
import org.spreadosd.testing.FailOnce;
import org.spreadosd.testing.FreePorts;
import org.spreadosd.util.Supervised;

/**
 * Every long-lived actor of a node, spawned supervised as the node spawns it, meets a failure and goes on:
 * the configuration subscriber and the membership tracker with a listener of the view that throws once (it
 * runs on their thread), the DS registration and the FAULT marker with a failure injected into their first
 * message. Each restart logs its one line, and no restarted actor is told an event twice.
 */
class SupervisedActorsTest {
    static final Supervised.Backoff BACKOFF = new Supervised.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 0);
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    final ActorTestKit kit = ActorTestKit.create(
            ConfigFactory.parseString("pekko.actor.provider = local\npekko.actor.testkit.typed.filter-leeway = 20s")
                    .withFallback(ConfigFactory.load()));
    final ClusterView view = new ClusterView();

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    @Test
    void theConfigurationSubscriberFollowsTheConfigServerAfterAFailure() throws Exception {
        TestProbe<ConfigServer.Command> cs = kit.createTestProbe();
        AtomicBoolean thrown = new AtomicBoolean();
        view.onChange(c -> {
            if (thrown.compareAndSet(false, true)) {
                throw new IllegalStateException("listener exploded");
            }
        });
        ConfigCopy copy = new ConfigCopy(dir);
        ActorRef<ClusterConfig> subscriber = kit.spawn(
                Supervised.restarting(ConfigSubscriber.create(cs.ref(), view, copy), BACKOFF), "cluster-view");
        cs.expectMessageClass(ConfigServer.Subscribe.class, WAIT);

        LoggingTestKit.warn("actor cluster-view failed")
                .withMessageContains("listener exploded")
                .expect(kit.system(), () -> {
                    subscriber.tell(config(1, 10));
                    return null;
                });
        // Restarted, it subscribes again, and goes on following the configuration and saving it.
        cs.expectMessageClass(ConfigServer.Subscribe.class, WAIT);
        subscriber.tell(config(2, 30));
        awaitCondition(() -> view.config().revision() == 2, "revision 2 in the view");
        awaitCondition(
                () -> copy.load(LoggerFactory.getLogger("test"))
                                .map(ClusterConfig::revision)
                                .orElse(0L)
                        == 2,
                "revision 2 saved");
        // A config server coming up makes it subscribe once, not once per incarnation.
        view.membershipChanged(Set.of(), Set.of("cs-a"));
        cs.expectMessageClass(ConfigServer.Subscribe.class, WAIT);
        cs.expectNoMessage(Duration.ofMillis(500));
    }

    @Test
    void theDataServerRegistersAfterAFailure() {
        TestProbe<ConfigServer.Command> cs = kit.createTestProbe();
        CompletableFuture<ConfigServer.Registered> first = new CompletableFuture<>();
        NodeInfo self = node(3, "127.0.0.1:3");
        AtomicBoolean failed = new AtomicBoolean();
        kit.spawn(
                Supervised.restarting(
                        FailOnce.onFirstMessage(NodeRegistration.create(self, cs.ref(), view, first), failed), BACKOFF),
                "data-server");

        LoggingTestKit.warn("actor data-server failed").expect(kit.system(), () -> {
            answer(cs, 1);
            return null;
        });
        // Restarted, it registers again; the answer is its first confirmation.
        answer(cs, 2);
        assertEquals(2, first.orTimeout(20, TimeUnit.SECONDS).join().revision());
        // A config server coming up makes it register again, once.
        view.membershipChanged(Set.of(), Set.of("cs-a"));
        answer(cs, 3);
        cs.expectNoMessage(Duration.ofMillis(500));
    }

    @Test
    void theFaultMarkerMarksAndClearsAfterAFailure() {
        TestProbe<ConfigServer.Command> cs = kit.createTestProbe();
        NodeInfo ds = node(7, "127.0.0.1:7");
        view.update(new ClusterConfig(1, List.of(ds), Map.of(), Set.of()));
        view.membershipChanged(Set.of(), Set.of());
        AtomicBoolean failed = new AtomicBoolean();
        LoggingTestKit.warn("actor fault-marker failed")
                .expect(
                        kit.system(),
                        () -> kit.spawn(
                                Supervised.restarting(
                                        FailOnce.onFirstMessage(
                                                FaultMarker.create(view, cs.ref(), Duration.ZERO), failed),
                                        BACKOFF),
                                "fault-marker"));
        assertEquals(new ConfigServer.SetFault(7, true), cs.expectMessageClass(ConfigServer.SetFault.class, WAIT));

        view.update(new ClusterConfig(2, List.of(ds), Map.of(), Set.of(7)));
        view.membershipChanged(Set.of("127.0.0.1:7"), Set.of());
        ConfigServer.SetFault cleared;
        do {
            cleared = cs.expectMessageClass(ConfigServer.SetFault.class, WAIT);
        } while (cleared.fault());
        assertEquals(new ConfigServer.SetFault(7, false), cleared);
    }

    @Test
    void theMembershipTrackerFollowsTheClusterAfterAFailure() {
        ActorTestKit first = clusterKit();
        ActorTestKit second = clusterKit();
        try {
            Cluster one = Cluster.get(first.system());
            one.manager().tell(Join.create(one.selfMember().address()));
            AtomicBoolean thrown = new AtomicBoolean();
            view.onMembershipChange(() -> {
                if (thrown.compareAndSet(false, true)) {
                    throw new IllegalStateException("listener exploded");
                }
            });
            String self = MembershipTracker.hostPort(one.selfMember().address());
            LoggingTestKit.warn("actor membership failed")
                    .withMessageContains("listener exploded")
                    .expect(
                            first.system(),
                            () -> first.spawn(
                                    Supervised.restarting(MembershipTracker.create(view), BACKOFF), "membership"));
            awaitCondition(() -> view.isReachableMember(self), "this member up in the view");

            // Restarted, it still follows the cluster: a member that joins afterwards shows up.
            Cluster two = Cluster.get(second.system());
            two.manager().tell(Join.create(one.selfMember().address()));
            String other = MembershipTracker.hostPort(two.selfMember().address());
            awaitCondition(() -> view.isReachableMember(other), "the joining member up in the view");
            assertTrue(thrown.get());
        } finally {
            second.shutdownTestKit();
            first.shutdownTestKit();
        }
    }

    private static ActorTestKit clusterKit() {
        Config c = ConfigFactory.parseString("""
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = 127.0.0.1
                pekko.remote.artery.canonical.port = %d
                pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
                pekko.actor.testkit.typed.filter-leeway = 20s
                pekko.actor.testkit.typed.system-shutdown-default = 30s
                pekko.actor.testkit.typed.throw-on-shutdown-timeout = off
                """.formatted(FreePorts.next()));
        return ActorTestKit.create("spreadosd", c.withFallback(ConfigFactory.load()));
    }

    private static void answer(TestProbe<ConfigServer.Command> cs, long revision) {
        ConfigServer.RegisterNode r = cs.expectMessageClass(ConfigServer.RegisterNode.class, WAIT);
        r.replyTo().tell(new ConfigServer.Registered(r.node().nid(), revision, null));
    }

    private static ClusterConfig config(long revision, int weight) {
        return new ClusterConfig(revision, List.of(node(1, "127.0.0.1:1")), Map.of(0, weight), Set.of());
    }

    private static NodeInfo node(int nid, String clusterAddress) {
        return new NodeInfo(
                nid, "ds" + nid, "127.0.0.1:1" + nid, List.of(0), "here", "http://127.0.0.1:1", null, clusterAddress);
    }

    private static void awaitCondition(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT + ": " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
