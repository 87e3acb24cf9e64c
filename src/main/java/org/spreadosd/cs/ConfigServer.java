package org.spreadosd.cs;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.JournalPersistFailed;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.spreadosd.cluster.CborSerializable;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cluster.WritePolicy;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.util.Supervised;

/**
 * The config server: the one keeper of the cluster configuration, run as a Cluster Singleton on the
 * {@code cs} role. Its state is event sourced: every change is an event in the journal, so a
 * restarted or moved config server rebuilds the same configuration. Every change is pushed to all
 * subscribers (gateways and data servers).
 *
 * <p>A command is checked before its event is journaled ({@link #refusal}): recovery replays every
 * journaled event, so one that cannot be applied would stop the config server on every start.
 *
 * <p>It restarts with backoff, both when a command handler throws and when the journal fails a write (an
 * event-sourced behavior stops for good on a failed write unless told otherwise), and recovers its state
 * from the journal. Its subscribers are kept across restarts: they subscribe again only when a config
 * server comes up on another node, so a restart that forgot them would leave every node on an old
 * configuration.
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
    public record SetWeight(int rsid, Integer weight, ActorRef<StatusReply<ClusterConfig>> replyTo)
            implements Command {}

    /** Sets the write policy of a replication-set (null: back to the default, all-reachable). */
    public record SetWritePolicy(int rsid, String policy, ActorRef<StatusReply<ClusterConfig>> replyTo)
            implements Command {}

    /** Removes a node that is FAULT; a live node is refused, it would register again at once. */
    public record RemoveNode(int nid, ActorRef<Outcome> replyTo) implements Command {}

    /** Marks a node FAULT (unreachable) or clears the mark (it came back). */
    public record SetFault(int nid, boolean fault) implements Command {}

    /** Switches every node to another metadata store or metadata cache (a null field keeps its value). */
    public record SetMds(String mdsUri, String mdsCacheUri, ActorRef<StatusReply<ClusterConfig>> replyTo)
            implements Command {}

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
    private final Set<ActorRef<ClusterConfig>> subscribers;
    private final Supervised.Backoff backoff;

    /**
     * A supervised config server: it restarts with {@code backoff} after a failure (do not wrap it in
     * {@link Supervised#restarting} again).
     *
     * @param isReachable whether the cluster member at a {@code host:port} cluster address is up and reachable:
     *     a nid held by such a member is refused to anyone else
     */
    public static Behavior<Command> create(Predicate<String> isReachable, Supervised.Backoff backoff) {
        return create(PERSISTENCE_ID, isReachable, backoff);
    }

    /** A config server with its own journal, e.g. one per test. */
    public static Behavior<Command> create(
            PersistenceId id, Predicate<String> isReachable, Supervised.Backoff backoff) {
        return Behaviors.setup(outer -> {
            // Outside the restarted behavior, so that a restart keeps them (their watches stay on the actor).
            Set<ActorRef<ClusterConfig>> subscribers = new HashSet<>();
            return Supervised.restarting(
                    Behaviors.setup(ctx -> new ConfigServer(ctx, id, isReachable, backoff, subscribers)), backoff);
        });
    }

    private ConfigServer(
            ActorContext<Command> context,
            PersistenceId id,
            Predicate<String> isReachable,
            Supervised.Backoff backoff,
            Set<ActorRef<ClusterConfig>> subscribers) {
        super(
                id,
                SupervisorStrategy.restartWithBackoff(
                                backoff.minBackoff(), backoff.maxBackoff(), backoff.randomFactor())
                        .withLoggingEnabled(false));
        this.context = context;
        this.isReachable = isReachable;
        this.backoff = backoff;
        this.subscribers = subscribers;
    }

    @Override
    public ClusterConfig emptyState() {
        return ClusterConfig.EMPTY;
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(SNAPSHOT_EVERY, 2);
    }

    /** The one line of a failed journal write; the restart that follows recovers the state from the journal. */
    @Override
    public SignalHandler<ClusterConfig> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(
                        JournalPersistFailed.class,
                        (config, failed) -> context.getLog()
                                .warn(
                                        "config server could not journal a change at revision {}: {}; restarting it in {} ms"
                                                + " (up to {} ms for failures in a row) to recover from the journal",
                                        config.revision(),
                                        failed.getFailure().toString(),
                                        backoff.minBackoff().toMillis(),
                                        backoff.maxBackoff().toMillis()))
                .build();
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
                        (config, m) ->
                                persistAndPublish(config, new WritePolicyChanged(m.rsid(), m.policy()), m.replyTo()))
                .onCommand(RemoveNode.class, this::onRemoveNode)
                .onCommand(SetFault.class, this::onSetFault)
                .onCommand(
                        SetMds.class,
                        (config, m) -> persistAndPublish(
                                config,
                                new MdsChanged(
                                        m.mdsUri() != null ? m.mdsUri() : config.mdsUri(),
                                        m.mdsCacheUri() != null ? m.mdsCacheUri() : config.mdsCacheUri()),
                                m.replyTo()))
                .onCommand(SubscriberGone.class, (config, m) -> {
                    subscribers.remove(m.subscriber());
                    context.getLog()
                            .info(
                                    "configuration subscriber gone: {}",
                                    m.subscriber().path());
                    return Effect().none();
                })
                .build();
    }

    @Override
    public EventHandler<ClusterConfig, Event> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onAnyEvent(this::applyOrSkip);
    }

    private static ClusterConfig apply(ClusterConfig config, Event event) {
        if (event instanceof NodeRegistered e) {
            return config.withNode(e.node());
        } else if (event instanceof WeightChanged e) {
            return config.withWeight(e.rsid(), e.weight());
        } else if (event instanceof WritePolicyChanged e) {
            return config.withWritePolicy(e.rsid(), e.policy());
        } else if (event instanceof NodeRemoved e) {
            return config.withoutNode(e.nid());
        } else if (event instanceof FaultChanged e) {
            return config.withFault(e.nid(), e.fault());
        } else if (event instanceof MdsChanged e) {
            return config.withMds(e.mdsUri(), e.mdsCacheUri());
        }
        throw new IllegalStateException("unknown event " + event);
    }

    /**
     * Applies a journaled event. Commands are checked before their events are journaled, so an event that
     * does not apply was journaled by an older version under other rules. It is skipped, not thrown: a
     * throw would end every recovery at the same event and keep the whole config server (and with it
     * registration, FAULT marks and every later change) down for good; skipping loses one old change,
     * which the ERROR line names so that an operator can make it again.
     */
    private ClusterConfig applyOrSkip(ClusterConfig config, Event event) {
        try {
            return apply(config, event);
        } catch (RuntimeException e) {
            context.getLog()
                    .error(
                            "skipping journal event seqNr={} {}: it no longer applies: {}",
                            lastSequenceNumber(context),
                            event,
                            e.getMessage());
            return config;
        }
    }

    /**
     * Why {@code event} must not be journaled on top of {@code config}, or null when it may: it names a
     * value no node could use, or it does not apply.
     */
    static String refusal(ClusterConfig config, Event event) {
        String invalid = invalidValue(event);
        if (invalid != null) {
            return invalid;
        }
        try {
            apply(config, event);
            return null;
        } catch (RuntimeException e) {
            return String.valueOf(e.getMessage());
        }
    }

    private static String invalidValue(Event event) {
        if (event instanceof NodeRegistered e) {
            return invalidNode(e.node());
        } else if (event instanceof WeightChanged e) {
            if (e.rsid() < 0) {
                return "rsid must not be negative, got " + e.rsid();
            }
            return e.weight() != null && e.weight() < 0 ? "weight must not be negative, got " + e.weight() : null;
        } else if (event instanceof WritePolicyChanged e) {
            if (e.rsid() < 0) {
                return "rsid must not be negative, got " + e.rsid();
            }
            try {
                WritePolicy.parse(e.policy());
                return null;
            } catch (IllegalArgumentException bad) {
                return bad.getMessage();
            }
        } else if (event instanceof MdsChanged e) {
            return invalidMdsUri(e.mdsUri());
        }
        return null;
    }

    private static String invalidNode(NodeInfo node) {
        if (node == null) {
            return "no node given";
        } else if (node.nid() < 0) {
            return "nid must not be negative, got " + node.nid();
        } else if (node.rsids().isEmpty() || node.rsids().stream().anyMatch(r -> r == null || r < 0)) {
            return "node " + node.nid() + " needs one or more rsids >= 0, got " + node.rsids();
        } else if (isBlank(node.name()) || isBlank(node.address()) || isBlank(node.dataUrl())) {
            return "node " + node.nid() + " needs a name, an address and a data URL";
        }
        return null;
    }

    /** A metadata store URI every node can open: a JDBC URL (a bare H2 path would mean a different file on each host). */
    static String invalidMdsUri(String uri) {
        if (uri == null || uri.isEmpty() || uri.startsWith("jdbc:h2:tcp:") || uri.startsWith("jdbc:postgresql:")) {
            return null;
        }
        return "unsupported metadata store URI '" + MdsUri.redact(uri)
                + "': use jdbc:postgresql://host:port/db?user=...&password=... or jdbc:h2:tcp://host:port/name";
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private Effect<Event, ClusterConfig> onRegister(ClusterConfig config, RegisterNode m) {
        NodeInfo node = m.node();
        String invalid = refusal(config, new NodeRegistered(node));
        if (invalid != null) {
            context.getLog().warn("registration refused: {}", invalid);
            int nid = node == null ? -1 : node.nid();
            return Effect().none().thenRun(c -> m.replyTo().tell(new Registered(nid, c.revision(), invalid)));
        }
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
        WeightChanged event = new WeightChanged(m.rsid(), m.weight());
        String refusal = refusal(config, event);
        if (refusal != null) {
            return refuse(event, refusal, m.replyTo());
        }
        return Effect().persist(event).thenRun(c -> {
            context.getLog()
                    .info(
                            "weight of rsid={} set to {}",
                            m.rsid(),
                            m.weight() == null ? "default " + ClusterConfig.DEFAULT_WEIGHT : m.weight());
            publish(c);
            m.replyTo().tell(StatusReply.success(c));
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

    private Effect<Event, ClusterConfig> persistAndPublish(
            ClusterConfig config, Event event, ActorRef<StatusReply<ClusterConfig>> replyTo) {
        String refusal = refusal(config, event);
        if (refusal != null) {
            return refuse(event, refusal, replyTo);
        }
        return Effect().persist(event).thenRun(c -> {
            context.getLog().info("configuration changed: {}", event);
            publish(c);
            replyTo.tell(StatusReply.success(c));
        });
    }

    private Effect<Event, ClusterConfig> refuse(
            Event event, String refusal, ActorRef<StatusReply<ClusterConfig>> replyTo) {
        context.getLog().warn("change refused: {}: {}", event, refusal);
        return Effect().none().thenRun(c -> replyTo.tell(StatusReply.error(refusal)));
    }

    private void publish(ClusterConfig config) {
        subscribers.forEach(s -> s.tell(config));
    }
}
