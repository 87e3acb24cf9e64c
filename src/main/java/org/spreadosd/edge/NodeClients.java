package org.spreadosd.edge;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * What one node's client-facing ports share: the buffer budget and the connection gates of its HTTP and
 * MessagePack-RPC ports. One per actor system (one per node), so the ports of a node draw on one budget and the
 * nodes of one test JVM each have their own.
 */
public final class NodeClients implements Extension {
    private static final ExtensionId<NodeClients> ID = new ExtensionId<>() {
        @Override
        public NodeClients createExtension(ActorSystem<?> system) {
            return new NodeClients(ClientLimits.from(system.settings().config().getConfig("spreadosd.clients")));
        }
    };

    private final ClientLimits limits;
    private final ClientBufferBudget budget;
    private final ConnectionGate httpGate;
    private final ConnectionGate rpcGate;

    NodeClients(ClientLimits limits) {
        this.limits = limits;
        this.budget = new ClientBufferBudget(limits.bufferBudget());
        this.httpGate = new ConnectionGate(
                "HTTP", limits.http().maxConnections(), limits.http().maxPerAddress());
        this.rpcGate = new ConnectionGate(
                "MessagePack-RPC", limits.rpc().maxConnections(), limits.rpc().maxPerAddress());
    }

    public static NodeClients get(ActorSystem<?> system) {
        return system.registerExtension(ID);
    }

    public ClientLimits limits() {
        return limits;
    }

    public ClientBufferBudget budget() {
        return budget;
    }

    public ConnectionGate httpGate() {
        return httpGate;
    }

    public ConnectionGate rpcGate() {
        return rpcGate;
    }
}
