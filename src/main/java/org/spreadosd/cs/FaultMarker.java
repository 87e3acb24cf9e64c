package org.spreadosd.cs;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;

/**
 * Runs beside the config server on every cs-role member: it marks FAULT the nodes whose cluster member is
 * unreachable or gone (Pekko's failure detector) and clears the mark when they are back. It acts on every
 * membership change and re-checks on a short tick, which also covers nodes that died while no config
 * server was up. After start it waits a grace period so that members still joining are not marked.
 */
public final class FaultMarker {
    private static final Duration RECHECK = Duration.ofSeconds(2);

    public enum Check {
        TICK
    }

    private FaultMarker() {}

    public static Behavior<Check> create(
            ClusterView view, ActorRef<ConfigServer.Command> configServer, Duration grace) {
        // Taken once: a restarted marker does not wait the grace again.
        long startMillis = System.currentTimeMillis();
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            long left = Math.max(0, grace.toMillis() - (System.currentTimeMillis() - startMillis));
            timers.startTimerWithFixedDelay(Check.TICK, Duration.ofMillis(left), RECHECK);
            ClusterView.Subscription changes =
                    view.onMembershipChange(() -> ctx.getSelf().tell(Check.TICK));
            return Behaviors.receive(Check.class)
                    .onMessage(Check.class, tick -> {
                        if (System.currentTimeMillis() - startMillis >= grace.toMillis() && view.knowsMembership()) {
                            mark(view, configServer);
                        }
                        return Behaviors.same();
                    })
                    .onSignal(PreRestart.class, s -> cancel(changes))
                    .onSignal(PostStop.class, s -> cancel(changes))
                    .build();
        }));
    }

    private static Behavior<Check> cancel(ClusterView.Subscription listener) {
        listener.cancel();
        return Behaviors.same();
    }

    private static void mark(ClusterView view, ActorRef<ConfigServer.Command> configServer) {
        ClusterConfig config = view.config();
        for (NodeInfo node : config.nodes()) {
            boolean down = !view.isReachable(node);
            if (down != config.isFault(node.nid())) {
                configServer.tell(new ConfigServer.SetFault(node.nid(), down));
            }
        }
    }
}
