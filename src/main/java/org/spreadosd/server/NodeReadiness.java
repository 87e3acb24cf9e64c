package org.spreadosd.server;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;

/**
 * What keeps a node from taking new work although it runs (a store disk under its reserve), asked by
 * {@code /ready} ({@link HealthRoutes}). One per actor system, so each node of a test JVM has its own; the roles
 * add their conditions as they start.
 */
final class NodeReadiness implements Extension {
    private static final AbstractExtensionId<NodeReadiness> ID = new AbstractExtensionId<>() {
        @Override
        public NodeReadiness createExtension(ExtendedActorSystem system) {
            return new NodeReadiness();
        }
    };

    private final List<Supplier<Optional<String>>> conditions = new CopyOnWriteArrayList<>();

    static NodeReadiness get(ActorSystem system) {
        return ID.get(system);
    }

    /** @param problem why the node is not ready now, or empty; asked on every {@code /ready} */
    void add(Supplier<Optional<String>> problem) {
        conditions.add(problem);
    }

    /** Every reason the node is not ready now; empty when it is. */
    List<String> problems() {
        return conditions.stream().flatMap(c -> c.get().stream()).toList();
    }
}
