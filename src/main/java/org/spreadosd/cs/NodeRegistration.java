package org.spreadosd.cs;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;

/**
 * A data server's presence in the cluster: it registers the node with the config server, retrying
 * until the config server (a singleton that may still be starting or moving) answers, and registers
 * again whenever a config server comes up, so a restarted config server knows who is here. It lives
 * beside the config server because it speaks the config server's protocol; the data server only spawns it.
 */
public final class NodeRegistration {
    static final Duration RETRY = Duration.ofSeconds(2);

    public sealed interface Command {}

    private record Answered(ConfigServer.Registered registered) implements Command {}

    private enum Signal implements Command {
        RETRY,
        CONFIG_SERVER_UP
    }

    private NodeRegistration() {}

    /**
     * @param firstAnswer completed with the config server's first answer: a confirmation, or a refusal
     *     (the nid is held by another live node), on which the node must not start
     */
    public static Behavior<Command> create(
            NodeInfo self,
            ActorRef<ConfigServer.Command> configServer,
            ClusterView view,
            CompletableFuture<ConfigServer.Registered> firstAnswer) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            ActorRef<ConfigServer.Registered> replies =
                    ctx.messageAdapter(ConfigServer.Registered.class, Answered::new);
            Runnable register = () -> {
                configServer.tell(new ConfigServer.RegisterNode(self, replies));
                timers.startTimerWithFixedDelay(Signal.RETRY, RETRY);
            };
            register.run();
            ClusterView.Subscription upListener =
                    view.onConfigServerUp(() -> ctx.getSelf().tell(Signal.CONFIG_SERVER_UP));
            return Behaviors.receive(Command.class)
                    .onMessageEquals(Signal.RETRY, () -> {
                        configServer.tell(new ConfigServer.RegisterNode(self, replies));
                        return Behaviors.same();
                    })
                    .onMessageEquals(Signal.CONFIG_SERVER_UP, () -> {
                        register.run();
                        return Behaviors.same();
                    })
                    .onMessage(Answered.class, a -> onAnswer(a.registered(), self, timers, firstAnswer, ctx.getLog()))
                    .onSignal(PreRestart.class, s -> cancel(upListener))
                    .onSignal(PostStop.class, s -> cancel(upListener))
                    .build();
        }));
    }

    private static Behavior<Command> cancel(ClusterView.Subscription listener) {
        listener.cancel();
        return Behaviors.same();
    }

    private static Behavior<Command> onAnswer(
            ConfigServer.Registered answer,
            NodeInfo self,
            TimerScheduler<Command> timers,
            CompletableFuture<ConfigServer.Registered> firstAnswer,
            Logger log) {
        timers.cancel(Signal.RETRY);
        if (answer.refusal() != null) {
            log.error(
                    "registration refused by the config server: nid={} name={}: {}",
                    self.nid(),
                    self.name(),
                    answer.refusal());
        } else {
            log.info(
                    "registered with the config server: nid={} name={} rsids={} revision={}",
                    self.nid(),
                    self.name(),
                    self.rsids(),
                    answer.revision());
        }
        firstAnswer.complete(answer);
        return Behaviors.same();
    }
}
