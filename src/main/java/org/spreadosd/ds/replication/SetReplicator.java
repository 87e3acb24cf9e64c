package org.spreadosd.ds.replication;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.replication.AntiEntropy.Repairs;
import org.spreadosd.ds.replication.PeerProgress.Bootstrapping;
import org.spreadosd.ds.replication.PeerProgress.Following;
import org.spreadosd.ds.replication.PeerProgress.Unread;
import org.spreadosd.ds.replication.PullRounds.Round;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.ds.replication.ReplicationStatus.PeerSync;
import org.spreadosd.failure.SpreadFailure;

/**
 * Keeps this DS's copy of one replication-set complete. For every other member of the set it pulls that
 * member's update log from a persisted position and applies it: versions it lacks are copied, deletes are
 * applied as tombstones. With no position yet (a new or emptied member) it first copies the peer's whole
 * inventory, then follows the log from where it ended when the copy began. Every so often it compares
 * inventories bucket by bucket with each peer (anti-entropy) and repairs what the logs missed.
 *
 * <p>What it knows of each peer is one {@link PeerState}, its {@link PeerProgress} saying what the next round
 * reads. The rounds themselves ({@link PullRounds}, {@link AntiEntropy}) run in futures, every peer reached
 * through {@link ReplicaPeers}; their results come back as messages, so the state is only touched by the actor.
 */
public final class SetReplicator extends AbstractBehavior<SetReplicator.Command> {
    private static final Logger log = LoggerFactory.getLogger(SetReplicator.class);

    public sealed interface Command {}

    private enum Tick implements Command {
        INSTANCE
    }

    private record Pull(int peerNid) implements Command {}

    private record Pulled(int peerNid, Round round, Throwable error) implements Command {}

    private record Compared(int peerNid, Repairs repairs, Throwable error) implements Command {}

    /** How often to poll idle peers, compare inventories, and how much to move per round. */
    public record Settings(Duration pollInterval, Duration antiEntropyInterval, int batch, int parallelism) {}

    private final int rsid;
    private final int selfNid;
    private final ClusterView view;
    private final LogPositions positions;
    private final ReplicationStatus status;
    private final Settings settings;
    private final PullRounds rounds;
    private final AntiEntropy antiEntropy;
    private final Map<Integer, PeerState> peers = new HashMap<>();

    public static Behavior<Command> create(
            int rsid,
            int selfNid,
            ClusterView view,
            DataStore store,
            ReplicaPeers client,
            ReplicationStatus status,
            Settings settings,
            Materializer mat,
            Executor blocking) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.pollInterval());
            return new SetReplicator(ctx, rsid, selfNid, view, store, client, status, settings, mat, blocking);
        }));
    }

    private SetReplicator(
            ActorContext<Command> ctx,
            int rsid,
            int selfNid,
            ClusterView view,
            DataStore store,
            ReplicaPeers client,
            ReplicationStatus status,
            Settings settings,
            Materializer mat,
            Executor blocking) {
        super(ctx);
        this.rsid = rsid;
        this.selfNid = selfNid;
        this.view = view;
        this.positions = new LogPositions(store.logDir(), store.files());
        this.status = status;
        this.settings = settings;
        PeerApplier applier = new PeerApplier(rsid, store, client, settings.parallelism(), mat, blocking);
        this.rounds = new PullRounds(rsid, client, applier, positions, settings.batch(), blocking);
        this.antiEntropy = new AntiEntropy(rsid, store, client, applier, mat, blocking);
        ctx.getSelf().tell(Tick.INSTANCE);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessageEquals(Tick.INSTANCE, this::onTick)
                .onMessage(Pull.class, m -> onPull(m.peerNid()))
                .onMessage(Pulled.class, this::onPulled)
                .onMessage(Compared.class, this::onCompared)
                .build();
    }

    private Behavior<Command> onTick() {
        ClusterConfig config = view.config();
        List<NodeInfo> members = peersIn(config);
        for (NodeInfo peer : members) {
            PeerState state = peers.computeIfAbsent(peer.nid(), n -> PeerState.firstSeen());
            if (status.get(rsid, peer.nid()) == null) {
                // Not in sync until the first round with this peer says so.
                status.set(rsid, peer.nid(), new PeerSync(PeerSync.CATCHING_UP, 0, 0, 0, 0, 0, null));
            }
            if (state.busy()) {
                continue;
            }
            if (config.isFault(peer.nid()) || !view.isReachable(peer)) {
                PeerSync last = status.get(rsid, peer.nid());
                status.set(
                        rsid,
                        peer.nid(),
                        new PeerSync(
                                PeerSync.UNREACHABLE,
                                last.versionsBehind(),
                                last.bytesBehind(),
                                state.copiedVersions(),
                                state.copiedBytes(),
                                0,
                                null));
                continue;
            }
            if (antiEntropyDue(state)) {
                compare(peer);
            } else {
                onPull(peer.nid());
            }
        }
        // A peer that left the set is forgotten once no round with it is under way.
        for (Map.Entry<Integer, PeerState> known : Set.copyOf(peers.entrySet())) {
            int nid = known.getKey();
            if (!known.getValue().busy() && members.stream().noneMatch(p -> p.nid() == nid)) {
                peers.remove(nid);
                status.forget(rsid, nid);
            }
        }
        return this;
    }

    private List<NodeInfo> peersIn(ClusterConfig config) {
        return config.members(rsid).stream().filter(n -> n.nid() != selfNid).toList();
    }

    private boolean antiEntropyDue(PeerState state) {
        return state.following()
                && System.currentTimeMillis() - state.lastComparedMillis()
                        >= settings.antiEntropyInterval().toMillis();
    }

    private Behavior<Command> onPull(int peerNid) {
        Optional<NodeInfo> peer = view.config().node(peerNid);
        PeerState state = peers.get(peerNid);
        if (peer.isEmpty() || state == null || state.busy()) {
            return this;
        }
        CompletionStage<Round> round;
        try {
            PeerProgress progress = state.progress() instanceof Unread ? loaded(peerNid) : state.progress();
            state = state.withProgress(progress);
            round = progress instanceof Following f
                    ? rounds.followLog(peer.get(), f.position())
                    : rounds.bootstrap(peer.get(), (Bootstrapping) progress);
        } catch (IOException | RuntimeException e) {
            round = CompletableFuture.failedFuture(e);
        }
        peers.put(peerNid, state.pulling(System.nanoTime()));
        getContext().pipeToSelf(round, (r, e) -> new Pulled(peerNid, r, e));
        return this;
    }

    /** The persisted position in the peer's log; without one this member has never copied the peer's data. */
    private PeerProgress loaded(int peerNid) throws IOException {
        Optional<Position> saved = positions.load(rsid, peerNid);
        if (saved.isPresent()) {
            return new Following(saved.get());
        }
        log.info("bootstrapping rsid={} from the inventory of nid={}", rsid, peerNid);
        return Bootstrapping.begin();
    }

    private Behavior<Command> onPulled(Pulled m) {
        PeerState state = peers.get(m.peerNid());
        if (state == null) {
            return this;
        }
        state = state.idle();
        peers.put(m.peerNid(), state);
        if (m.error() != null) {
            noteFailure(m.peerNid(), m.error());
            return this;
        }
        Round r = m.round();
        PeerState before = state;
        state = state.plusCopied(r.copied(), r.copiedBytes()).withProgress(r.next());
        peers.put(m.peerNid(), state);
        String sync;
        int percent = 0;
        if (r.next() instanceof Bootstrapping b) {
            sync = PeerSync.BOOTSTRAPPING;
            percent = b.percent();
        } else {
            if (before.progress() instanceof Bootstrapping b) {
                log.info(
                        "bootstrap of rsid={} from the inventory of nid={} done: {} versions, {} bytes copied in {} s",
                        rsid,
                        m.peerNid(),
                        state.copiedVersions(),
                        state.copiedBytes(),
                        String.format("%.1f", (System.nanoTime() - b.startedNanos()) / 1e9));
            }
            sync = r.behind() > 0 ? PeerSync.CATCHING_UP : PeerSync.IN_SYNC;
        }
        if (before.following()) {
            noteLogRound(m.peerNid(), state.roundStartedNanos(), r);
        }
        status.set(
                rsid,
                m.peerNid(),
                new PeerSync(
                        sync, r.behind(), r.bytesBehind(), state.copiedVersions(), state.copiedBytes(), percent, null));
        if (r.more()) {
            getContext().getSelf().tell(new Pull(m.peerNid()));
        }
        return this;
    }

    /** One line per new kind of failure with a peer; the status keeps the last one until a round succeeds. */
    private void noteFailure(int peerNid, Throwable error) {
        PeerSync last = status.get(rsid, peerNid);
        String why = SpreadFailure.describe(error);
        if (last == null || !why.equals(last.lastError())) {
            log.warn("replication rsid={} from nid={}: {} (retrying)", rsid, peerNid, why);
        }
        status.set(
                rsid,
                peerNid,
                last == null
                        ? new PeerSync(PeerSync.CATCHING_UP, 0, 0, 0, 0, 0, why)
                        : new PeerSync(
                                last.state(),
                                last.versionsBehind(),
                                last.bytesBehind(),
                                last.copiedVersions(),
                                last.copiedBytes(),
                                last.percent(),
                                why));
    }

    /** One line per round that copied from a peer's log (in steady state the forwards arrive first and nothing is copied). */
    private void noteLogRound(int peerNid, long startedNanos, Round r) {
        if (r.copied() > 0) {
            double seconds = Math.max(1e-3, (System.nanoTime() - startedNanos) / 1e9);
            log.info(
                    "caught up rsid={} from the log of nid={}: {} versions ({} bytes) copied in {} s ({} MB/s), {} versions behind",
                    rsid,
                    peerNid,
                    r.copied(),
                    r.copiedBytes(),
                    String.format("%.2f", seconds),
                    String.format("%.1f", r.copiedBytes() / seconds / 1e6),
                    r.behind());
        }
    }

    private void compare(NodeInfo peer) {
        peers.put(peer.nid(), peers.get(peer.nid()).comparing(System.currentTimeMillis()));
        getContext().pipeToSelf(antiEntropy.compare(peer), (repairs, e) -> new Compared(peer.nid(), repairs, e));
    }

    private Behavior<Command> onCompared(Compared m) {
        PeerState state = peers.get(m.peerNid());
        if (state != null) {
            peers.put(m.peerNid(), state.idle());
        }
        status.antiEntropyRounds.incrementAndGet();
        if (m.error() != null) {
            log.warn(
                    "anti-entropy rsid={} with nid={} failed: {}",
                    rsid,
                    m.peerNid(),
                    SpreadFailure.describe(m.error()));
            return this;
        }
        Repairs r = m.repairs();
        status.antiEntropyCopied.addAndGet(r.copied());
        status.antiEntropyDeleted.addAndGet(r.deleted());
        if (r.copied() > 0 || r.deleted() > 0) {
            log.info(
                    "anti-entropy rsid={} with nid={}: {} buckets differed, copied {} versions, applied {} deletes",
                    rsid,
                    m.peerNid(),
                    r.buckets(),
                    r.copied(),
                    r.deleted());
        } else {
            log.debug(
                    "anti-entropy rsid={} with nid={}: {} buckets differed, nothing to repair here",
                    rsid,
                    m.peerNid(),
                    r.buckets());
        }
        return this;
    }
}
