package org.spreadosd.cluster;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.spreadosd.cs.ConfigServer;

/**
 * A node's copy of the cluster configuration, kept current by subscribing to the config server.
 * Request paths read it without asking any actor.
 */
public final class ClusterView {
    private final AtomicReference<ClusterConfig> current = new AtomicReference<>(ClusterConfig.EMPTY);
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();

    private record Waiter(Predicate<ClusterConfig> condition, CompletableFuture<ClusterConfig> done) {}

    public ClusterConfig config() {
        return current.get();
    }

    /** Keeps the newest configuration seen: revisions only move forward. */
    public void update(ClusterConfig next) {
        ClusterConfig now = current.accumulateAndGet(next, (old, fresh) -> fresh.revision() >= old.revision() ? fresh : old);
        for (Waiter w : waiters) {
            if (w.condition().test(now) && w.done().complete(now)) {
                waiters.remove(w);
            }
        }
    }

    /** Completes once the configuration satisfies {@code condition}, e.g. once it lists this node. */
    public CompletableFuture<ClusterConfig> when(Predicate<ClusterConfig> condition) {
        Waiter w = new Waiter(condition, new CompletableFuture<>());
        waiters.add(w);
        update(current.get());
        return w.done();
    }

    /** An actor that subscribes to the config server and feeds every configuration it is told into this view. */
    public Behavior<ClusterConfig> subscriber(ActorRef<ConfigServer.Command> configServer) {
        return Behaviors.setup(ctx -> {
            configServer.tell(new ConfigServer.Subscribe(ctx.getSelf()));
            return Behaviors.receiveMessage(config -> {
                update(config);
                return Behaviors.same();
            });
        });
    }
}
