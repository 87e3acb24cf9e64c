package org.spreadosd.ds;

import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cs.ConfigServer;

/**
 * The data server's presence in the cluster: it registers the node with the config server and keeps
 * retrying until the config server (a singleton that may still be starting or moving) confirms.
 */
public final class DataServer {
    static final Duration RETRY = Duration.ofSeconds(2);

    public sealed interface Command {}

    private record Confirmed(ConfigServer.Registered registered) implements Command {}

    private enum Retry implements Command { TICK }

    private DataServer() {}

    public static Behavior<Command> create(NodeInfo self, ActorRef<ConfigServer.Command> configServer) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            ActorRef<ConfigServer.Registered> replies = ctx.messageAdapter(ConfigServer.Registered.class, Confirmed::new);
            configServer.tell(new ConfigServer.RegisterNode(self, replies));
            timers.startTimerWithFixedDelay(Retry.TICK, RETRY);
            return Behaviors.receive(Command.class)
                    .onMessageEquals(Retry.TICK, () -> {
                        configServer.tell(new ConfigServer.RegisterNode(self, replies));
                        return Behaviors.same();
                    })
                    .onMessage(Confirmed.class, c -> {
                        timers.cancel(Retry.TICK);
                        ctx.getLog().info("registered with the config server: nid={} name={} rsids={} revision={}",
                                self.nid(), self.name(), self.rsids(), c.registered().revision());
                        return Behaviors.ignore();
                    })
                    .build();
        }));
    }
}
