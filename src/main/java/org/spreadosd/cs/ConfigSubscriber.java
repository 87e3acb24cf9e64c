package org.spreadosd.cs;

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
        return Behaviors.setup(ctx -> {
            configServer.tell(new ConfigServer.Subscribe(ctx.getSelf()));
            ClusterView.Subscription resubscribe =
                    view.onConfigServerUp(() -> configServer.tell(new ConfigServer.Subscribe(ctx.getSelf())));
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
                    .onSignal(PreRestart.class, s -> cancel(resubscribe))
                    .onSignal(PostStop.class, s -> cancel(resubscribe))
                    .build();
        });
    }

    private static <T> Behavior<T> cancel(ClusterView.Subscription subscription) {
        subscription.cancel();
        return Behaviors.same();
    }
}
