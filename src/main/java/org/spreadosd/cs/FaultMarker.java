package org.spreadosd.cs;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
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
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            long startMillis = System.currentTimeMillis();
            timers.startTimerWithFixedDelay(Check.TICK, grace, RECHECK);
            view.onMembershipChange(() -> ctx.getSelf().tell(Check.TICK));
            return Behaviors.receiveMessage(tick -> {
                if (System.currentTimeMillis() - startMillis >= grace.toMillis() && view.knowsMembership()) {
                    mark(view, configServer);
                }
                return Behaviors.same();
            });
        }));
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
