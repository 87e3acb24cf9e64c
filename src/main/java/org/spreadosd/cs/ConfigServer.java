package org.spreadosd.cs;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.spreadosd.cluster.CborSerializable;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;

/**
 * The config server: the one keeper of the cluster configuration, run as a Cluster Singleton on the
 * {@code cs} role. Every change is pushed to all subscribers (gateways and data servers).
 */
public final class ConfigServer extends AbstractBehavior<ConfigServer.Command> {

    public sealed interface Command extends CborSerializable {}

    /** A data server announces itself on start; a known nid takes its old place. */
    public record RegisterNode(NodeInfo node, ActorRef<Registered> replyTo) implements Command {}

    public record Registered(int nid, long revision) implements CborSerializable {}

    /** Sends the current configuration now and every later one. */
    public record Subscribe(ActorRef<ClusterConfig> subscriber) implements Command {}

    public record GetConfig(ActorRef<ClusterConfig> replyTo) implements Command {}

    /** Sets ({@code weight} not null) or resets to the default the weight of a replication-set. */
    public record SetWeight(int rsid, Integer weight, ActorRef<ClusterConfig> replyTo) implements Command {}

    private record SubscriberGone(ActorRef<ClusterConfig> subscriber) implements Command {}

    private final Set<ActorRef<ClusterConfig>> subscribers = new HashSet<>();
    private ClusterConfig config;

    public static Behavior<Command> create() {
        return Behaviors.setup(ctx -> new ConfigServer(ctx, ClusterConfig.EMPTY));
    }

    private ConfigServer(ActorContext<Command> context, ClusterConfig initial) {
        super(context);
        this.config = initial;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RegisterNode.class, this::onRegister)
                .onMessage(Subscribe.class, this::onSubscribe)
                .onMessage(GetConfig.class, m -> {
                    m.replyTo().tell(config);
                    return this;
                })
                .onMessage(SetWeight.class, this::onSetWeight)
                .onMessage(SubscriberGone.class, m -> {
                    subscribers.remove(m.subscriber());
                    return this;
                })
                .build();
    }

    private Behavior<Command> onRegister(RegisterNode m) {
        NodeInfo node = m.node();
        boolean unchanged = config.node(node.nid()).map(node::equals).orElse(false) && !config.isFault(node.nid());
        if (!unchanged) {
            change(config.withNode(node));
            getContext().getLog().info("node registered: nid={} name={} address={} rsids={} location={}",
                    node.nid(), node.name(), node.address(), node.rsids(), node.location());
        }
        m.replyTo().tell(new Registered(node.nid(), config.revision()));
        return this;
    }

    private Behavior<Command> onSubscribe(Subscribe m) {
        if (subscribers.add(m.subscriber())) {
            getContext().watchWith(m.subscriber(), new SubscriberGone(m.subscriber()));
        }
        m.subscriber().tell(config);
        return this;
    }

    private Behavior<Command> onSetWeight(SetWeight m) {
        change(config.withWeight(m.rsid(), m.weight()));
        getContext().getLog().info("weight of rsid={} set to {}", m.rsid(),
                m.weight() == null ? "default " + ClusterConfig.DEFAULT_WEIGHT : m.weight());
        m.replyTo().tell(config);
        return this;
    }

    private void change(ClusterConfig next) {
        config = next;
        subscribers.forEach(s -> s.tell(next));
    }
}
