package org.spreadosd.cs;

import java.time.Duration;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.ConfigCopy;

/**
 * How a node follows the cluster configuration: an actor that subscribes to the config server, again whenever a
 * config server comes up, feeds every configuration it is told into the node's {@link ClusterView}, and keeps the
 * newest one in a {@link ConfigCopy} on disk. The copy is saved in the background ({@link ConfigCopy#saveLater}):
 * an fsync never holds up the next configuration. It lives beside the config server because it speaks its
 * protocol; the view itself knows nothing of where configurations come from.
 */
public final class ConfigSubscriber {
    private ConfigSubscriber() {}

    public static Behavior<ClusterConfig> create(
            ActorRef<ConfigServer.Command> configServer, ClusterView view, ConfigCopy copy) {
        return create(configServer, view, copy, null);
    }

    /**
     * @param renew how often to subscribe again even though nothing seemed to change (null: never). A subscription
     *     be lost without this node noticing: after a partition the cluster downs and removes this node's former
     *     incarnation, and removing it ends the config server's watch of every subscriber at that address, the new
     *     incarnation's too (PartitionIT saw it); the node would then keep a stale configuration (itself FAULT) for
     *     good. Subscribing is idempotent and
     *     answered with the current configuration, so renewing it heals any such loss within one interval.
     */
    public static Behavior<ClusterConfig> create(
            ActorRef<ConfigServer.Command> configServer, ClusterView view, ConfigCopy copy, Duration renew) {
        return Behaviors.setup(ctx -> {
            configServer.tell(new ConfigServer.Subscribe(ctx.getSelf()));
            ClusterView.Subscription resubscribe =
                    view.onConfigServerUp(() -> configServer.tell(new ConfigServer.Subscribe(ctx.getSelf())));
            Cancellable renewal = renew == null
                    ? null
                    : ctx.getSystem()
                            .scheduler()
                            .scheduleWithFixedDelay(
                                    renew,
                                    renew,
                                    () -> configServer.tell(new ConfigServer.Subscribe(ctx.getSelf())),
                                    ctx.getExecutionContext());
            // What this incarnation saved: a restart may have cut off a save, so the first configuration after
            // (re)start is saved even if the view already had it.
            long[] saved = {-1};
            return Behaviors.receive(ClusterConfig.class)
                    .onMessage(ClusterConfig.class, config -> {
                        view.update(config);
                        ClusterConfig now = view.config();
                        if (now.revision() != saved[0]) {
                            copy.saveLater(now);
                            saved[0] = now.revision();
                        }
                        return Behaviors.same();
                    })
                    .onSignal(PreRestart.class, s -> cancel(resubscribe, renewal))
                    .onSignal(PostStop.class, s -> cancel(resubscribe, renewal))
                    .build();
        });
    }

    private static <T> Behavior<T> cancel(ClusterView.Subscription subscription, Cancellable renewal) {
        subscription.cancel();
        if (renewal != null) {
            renewal.cancel();
        }
        return Behaviors.same();
    }
}
