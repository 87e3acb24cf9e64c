package org.spreadosd.cs;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.spreadosd.cluster.CborSerializable;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;

/**
 * The config server: the one keeper of the cluster configuration, run as a Cluster Singleton on the
 * {@code cs} role. Its state is event sourced: every change is an event in the journal, so a
 * restarted or moved config server rebuilds the same configuration. Every change is pushed to all
 * subscribers (gateways and data servers).
 */
public final class ConfigServer extends EventSourcedBehavior<ConfigServer.Command, ConfigServer.Event, ClusterConfig> {
    public static final PersistenceId PERSISTENCE_ID = PersistenceId.ofUniqueId("spread-config");
    static final int SNAPSHOT_EVERY = 100;

    public sealed interface Command extends CborSerializable {}

    /** A data server announces itself on start; a known nid takes its old place. */
    public record RegisterNode(NodeInfo node, ActorRef<Registered> replyTo) implements Command {}

    /** The answer to a registration: {@code refusal} says why it was refused (the nid is held by another live node), else null. */
    public record Registered(int nid, long revision, String refusal) implements CborSerializable {}

    /** Sends the current configuration now and every later one. */
    public record Subscribe(ActorRef<ClusterConfig> subscriber) implements Command {}

    public record GetConfig(ActorRef<ClusterConfig> replyTo) implements Command {}

    /** Sets ({@code weight} not null) or resets to the default the weight of a replication-set. */
    public record SetWeight(int rsid, Integer weight, ActorRef<ClusterConfig> replyTo) implements Command {}

    /** Sets the write policy of a replication-set (null: back to the default, all-reachable). */
    public record SetWritePolicy(int rsid, String policy, ActorRef<ClusterConfig> replyTo) implements Command {}

    /** Removes a node that is FAULT; a live node is refused, it would register again at once. */
    public record RemoveNode(int nid, ActorRef<Outcome> replyTo) implements Command {}

    /** Marks a node FAULT (unreachable) or clears the mark (it came back). */
    public record SetFault(int nid, boolean fault) implements Command {}

    /** Switches every node to another metadata store or metadata cache (a null field keeps its value). */
    public record SetMds(String mdsUri, String mdsCacheUri, ActorRef<ClusterConfig> replyTo) implements Command {}

    /** The answer to a change that may be refused: {@code error} null when done. */
    public record Outcome(String error, long revision) implements CborSerializable {}

    private record SubscriberGone(ActorRef<ClusterConfig> subscriber) implements Command {}

    /** What the journal keeps: each change of the configuration. */
    public sealed interface Event extends CborSerializable {}

    public record NodeRegistered(NodeInfo node) implements Event {}

    public record WeightChanged(int rsid, Integer weight) implements Event {}

    public record NodeRemoved(int nid) implements Event {}

    public record WritePolicyChanged(int rsid, String policy) implements Event {}

    public record FaultChanged(int nid, boolean fault) implements Event {}

    public record MdsChanged(String mdsUri, String mdsCacheUri) implements Event {}

    private final ActorContext<Command> context;
    private final Predicate<String> isReachable;
    private final Set<ActorRef<ClusterConfig>> subscribers = new HashSet<>();

    /**
     * @param isReachable whether the cluster member at a {@code host:port} cluster address is up and reachable:
     *     a nid held by such a member is refused to anyone else
     */
    public static Behavior<Command> create(Predicate<String> isReachable) {
        return create(PERSISTENCE_ID, isReachable);
    }

    /** A config server with its own journal, e.g. one per test. */
    public static Behavior<Command> create(PersistenceId id, Predicate<String> isReachable) {
        return Behaviors.setup(ctx -> new ConfigServer(ctx, id, isReachable));
    }

    private ConfigServer(ActorContext<Command> context, PersistenceId id, Predicate<String> isReachable) {
        super(id);
        this.context = context;
        this.isReachable = isReachable;
    }

    @Override
    public ClusterConfig emptyState() {
        return ClusterConfig.EMPTY;
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }

    @Override
    public CommandHandler<Command, Event, ClusterConfig> commandHandler() {
        return newCommandHandlerBuilder()
                .forAnyState()
                .onCommand(RegisterNode.class, this::onRegister)
                .onCommand(Subscribe.class, this::onSubscribe)
                .onCommand(
                        GetConfig.class,
                        (config, m) -> Effect().none().thenRun(c -> m.replyTo().tell(c)))
                .onCommand(SetWeight.class, this::onSetWeight)
                .onCommand(
                        SetWritePolicy.class,
                        (config, m) -> persistAndPublish(new WritePolicyChanged(m.rsid(), m.policy()), m.replyTo()))
                .onCommand(RemoveNode.class, this::onRemoveNode)
                .onCommand(SetFault.class, this::onSetFault)
                .onCommand(
                        SetMds.class,
                        (config, m) -> persistAndPublish(
                                new MdsChanged(
                                        m.mdsUri() != null ? m.mdsUri() : config.mdsUri(),
                                        m.mdsCacheUri() != null ? m.mdsCacheUri() : config.mdsCacheUri()),
                                m.replyTo()))
                .onCommand(SubscriberGone.class, (config, m) -> {
                    subscribers.remove(m.subscriber());
                    return Effect().none();
                })
                .build();
    }

    @Override
    public EventHandler<ClusterConfig, Event> eventHandler() {
        return newEventHandlerBuilder()
                .forAnyState()
                .onEvent(NodeRegistered.class, (config, e) -> config.withNode(e.node()))
                .onEvent(WeightChanged.class, (config, e) -> config.withWeight(e.rsid(), e.weight()))
                .onEvent(WritePolicyChanged.class, (config, e) -> config.withWritePolicy(e.rsid(), e.policy()))
                .onEvent(NodeRemoved.class, (config, e) -> config.withoutNode(e.nid()))
                .onEvent(FaultChanged.class, (config, e) -> config.withFault(e.nid(), e.fault()))
                .onEvent(MdsChanged.class, (config, e) -> config.withMds(e.mdsUri(), e.mdsCacheUri()))
                .build();
    }

    private Effect<Event, ClusterConfig> onRegister(ClusterConfig config, RegisterNode m) {
        NodeInfo node = m.node();
        NodeInfo holder = config.node(node.nid()).orElse(null);
        if (holder != null && heldByAnother(holder, node)) {
            String refusal = "nid " + node.nid() + " is held by the live node " + holder.name() + " at "
                    + holder.address() + "; choose another --nid, or stop that node first";
            context.getLog()
                    .warn(
                            "registration refused: nid={} name={} address={}: {}",
                            node.nid(),
                            node.name(),
                            node.address(),
                            refusal);
            return Effect().none().thenRun(c -> m.replyTo().tell(new Registered(node.nid(), c.revision(), refusal)));
        }
        boolean unchanged = node.equals(holder) && !config.isFault(node.nid());
        if (unchanged) {
            return Effect().none().thenRun(c -> m.replyTo().tell(new Registered(node.nid(), c.revision(), null)));
        }
        return Effect().persist(new NodeRegistered(node)).thenRun(c -> {
            context.getLog()
                    .info(
                            "node registered: nid={} name={} address={} rsids={} location={}",
                            node.nid(),
                            node.name(),
                            node.address(),
                            node.rsids(),
                            node.location());
            publish(c);
            m.replyTo().tell(new Registered(node.nid(), c.revision(), null));
        });
    }

    /** A restarted node takes its old place, on the same or another address, unless its old member is still alive. */
    private boolean heldByAnother(NodeInfo holder, NodeInfo claimant) {
        String old = holder.clusterAddress();
        return old != null && !old.equals(claimant.clusterAddress()) && isReachable.test(old);
    }

    private Effect<Event, ClusterConfig> onSubscribe(ClusterConfig config, Subscribe m) {
        if (subscribers.add(m.subscriber())) {
            context.watchWith(m.subscriber(), new SubscriberGone(m.subscriber()));
        }
        return Effect().none().thenRun(c -> m.subscriber().tell(c));
    }

    private Effect<Event, ClusterConfig> onSetWeight(ClusterConfig config, SetWeight m) {
        return Effect().persist(new WeightChanged(m.rsid(), m.weight())).thenRun(c -> {
            context.getLog()
                    .info(
                            "weight of rsid={} set to {}",
                            m.rsid(),
                            m.weight() == null ? "default " + ClusterConfig.DEFAULT_WEIGHT : m.weight());
            publish(c);
            m.replyTo().tell(c);
        });
    }

    private Effect<Event, ClusterConfig> onRemoveNode(ClusterConfig config, RemoveNode m) {
        if (config.node(m.nid()).isEmpty()) {
            return Effect()
                    .none()
                    .thenRun(c -> m.replyTo().tell(new Outcome("no node with nid " + m.nid(), c.revision())));
        }
        if (!config.isFault(m.nid())) {
            return Effect()
                    .none()
                    .thenRun(c -> m.replyTo()
                            .tell(new Outcome(
                                    "node " + m.nid() + " is active; stop it first (it must be down or FAULT)",
                                    c.revision())));
        }
        return Effect().persist(new NodeRemoved(m.nid())).thenRun(c -> {
            context.getLog().info("node removed: nid={}", m.nid());
            publish(c);
            m.replyTo().tell(new Outcome(null, c.revision()));
        });
    }

    private Effect<Event, ClusterConfig> onSetFault(ClusterConfig config, SetFault m) {
        if (config.node(m.nid()).isEmpty() || config.isFault(m.nid()) == m.fault()) {
            return Effect().none();
        }
        return Effect().persist(new FaultChanged(m.nid(), m.fault())).thenRun(c -> {
            context.getLog().info("node nid={} {}", m.nid(), m.fault() ? "marked FAULT" : "active again");
            publish(c);
        });
    }

    private Effect<Event, ClusterConfig> persistAndPublish(Event event, ActorRef<ClusterConfig> replyTo) {
        return Effect().persist(event).thenRun(c -> {
            context.getLog().info("configuration changed: {}", event);
            publish(c);
            replyTo.tell(c);
        });
    }

    private void publish(ClusterConfig config) {
        subscribers.forEach(s -> s.tell(config));
    }
}
