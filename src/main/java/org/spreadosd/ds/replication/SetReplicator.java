package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
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
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.LogRecord;
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
 * <p>All disk and network work runs in futures; their results come back as messages, so the actor's
 * state is only touched by the actor.
 */
public final class SetReplicator extends AbstractBehavior<SetReplicator.Command> {
    private static final Logger log = LoggerFactory.getLogger(SetReplicator.class);

    public sealed interface Command {}

    private enum Tick implements Command {
        INSTANCE
    }

    private record Pull(int peerNid) implements Command {}

    private record Pulled(int peerNid, Progress progress, Throwable error) implements Command {}

    private record Compared(int peerNid, Repairs repairs, Throwable error) implements Command {}

    /** How often to poll idle peers, compare inventories, and how much to move per round. */
    public record Settings(Duration pollInterval, Duration antiEntropyInterval, int batch, int parallelism) {}

    /** Where a pull round left this member against one peer. */
    private record Progress(
            Position position,
            Cursor cursor,
            long behind,
            long bytesBehind,
            long copied,
            long copiedBytes,
            boolean more) {}

    /** A bootstrap under way: the inventory read up to {@code after}, the peer's log tail when it began. */
    private record Cursor(String after, Position start, long listed, long listedBytes) {}

    private record Repairs(int buckets, long copied, long deleted) {}

    private record Applied(long copied, long bytes) {
        Applied plus(Applied o) {
            return new Applied(copied + o.copied, bytes + o.bytes);
        }
    }

    private final int rsid;
    private final int selfNid;
    private final ClusterView view;
    private final DataStore store;
    private final ReplicaPeers client;
    private final LogPositions positions;
    private final ReplicationStatus status;
    private final Settings settings;
    private final Materializer mat;
    private final Executor blocking;
    private final Set<Integer> busy = new HashSet<>();
    private final Map<Integer, Position> known = new HashMap<>();
    private final Map<Integer, Cursor> cursors = new HashMap<>();
    private final Map<Integer, Long> lastCompared = new HashMap<>();
    private final Map<Integer, Long> bootstrapStarted = new HashMap<>();
    private final Map<Integer, Long> roundStarted = new HashMap<>();
    private final Map<Integer, long[]> copiedSoFar = new HashMap<>();

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
        this.store = store;
        this.client = client;
        this.positions = new LogPositions(store.logDir(), store.files());
        this.status = status;
        this.settings = settings;
        this.mat = mat;
        this.blocking = blocking;
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
        List<NodeInfo> peers = peers(config);
        for (NodeInfo peer : peers) {
            if (status.get(rsid, peer.nid()) == null) {
                // Not in sync until the first round with this peer says so.
                status.set(rsid, peer.nid(), new PeerSync(PeerSync.CATCHING_UP, 0, 0, 0, 0, 0, null));
            }
            if (busy.contains(peer.nid())) {
                continue;
            }
            if (config.isFault(peer.nid()) || !view.isReachable(peer)) {
                PeerSync last = status.get(rsid, peer.nid());
                status.set(
                        rsid,
                        peer.nid(),
                        new PeerSync(
                                PeerSync.UNREACHABLE,
                                last == null ? 0 : last.versionsBehind(),
                                last == null ? 0 : last.bytesBehind(),
                                copied(peer.nid())[0],
                                copied(peer.nid())[1],
                                0,
                                null));
                continue;
            }
            if (antiEntropyDue(peer.nid())) {
                compare(peer);
            } else {
                onPull(peer.nid());
            }
        }
        for (int gone : Set.copyOf(known.keySet())) {
            if (peers.stream().noneMatch(p -> p.nid() == gone)) {
                known.remove(gone);
                status.forget(rsid, gone);
            }
        }
        return this;
    }

    private List<NodeInfo> peers(ClusterConfig config) {
        return config.members(rsid).stream().filter(n -> n.nid() != selfNid).toList();
    }

    private boolean antiEntropyDue(int peerNid) {
        Long last = lastCompared.get(peerNid);
        long now = System.currentTimeMillis();
        if (last == null) {
            lastCompared.put(peerNid, now);
            return false;
        }
        return known.containsKey(peerNid)
                && now - last >= settings.antiEntropyInterval().toMillis();
    }

    private Behavior<Command> onPull(int peerNid) {
        Optional<NodeInfo> peer = view.config().node(peerNid);
        if (peer.isEmpty() || busy.contains(peerNid)) {
            return this;
        }
        busy.add(peerNid);
        roundStarted.put(peerNid, System.nanoTime());
        CompletionStage<Progress> round;
        try {
            Position position = known.containsKey(peerNid)
                    ? known.get(peerNid)
                    : positions.load(rsid, peerNid).orElse(null);
            if (position != null) {
                known.put(peerNid, position);
                round = followLog(peer.get(), position);
            } else {
                if (!cursors.containsKey(peerNid)) {
                    bootstrapStarted.put(peerNid, System.nanoTime());
                    log.info("bootstrapping rsid={} from the inventory of nid={}", rsid, peerNid);
                }
                round = bootstrap(peer.get(), cursors.get(peerNid));
            }
        } catch (IOException | RuntimeException e) {
            round = CompletableFuture.failedFuture(e);
        }
        getContext().pipeToSelf(round, (progress, e) -> new Pulled(peerNid, progress, e));
        return this;
    }

    private Behavior<Command> onPulled(Pulled m) {
        busy.remove(m.peerNid());
        if (m.error() != null) {
            PeerSync last = status.get(rsid, m.peerNid());
            String why = describe(m.error());
            if (last == null || !why.equals(last.lastError())) {
                log.warn("replication rsid={} from nid={}: {} (retrying)", rsid, m.peerNid(), why);
            }
            status.set(
                    rsid,
                    m.peerNid(),
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
            return this;
        }
        Progress p = m.progress();
        long[] total = copied(m.peerNid());
        total[0] += p.copied();
        total[1] += p.copiedBytes();
        String state;
        int percent = 0;
        if (p.position() != null) {
            if (!known.containsKey(m.peerNid())) {
                double seconds =
                        (System.nanoTime() - bootstrapStarted.getOrDefault(m.peerNid(), System.nanoTime())) / 1e9;
                log.info(
                        "bootstrap of rsid={} from the inventory of nid={} done: {} versions, {} bytes copied in {} s",
                        rsid,
                        m.peerNid(),
                        total[0],
                        total[1],
                        String.format("%.1f", seconds));
            }
            known.put(m.peerNid(), p.position());
            cursors.remove(m.peerNid());
            state = p.behind() > 0 ? PeerSync.CATCHING_UP : PeerSync.IN_SYNC;
        } else {
            cursors.put(m.peerNid(), p.cursor());
            state = PeerSync.BOOTSTRAPPING;
            percent = p.cursor().after() == null
                    ? 0
                    : Integer.parseInt(p.cursor().after().substring(0, 2), 16) * 100 / 256;
        }
        noteRound(m.peerNid(), p);
        status.set(
                rsid, m.peerNid(), new PeerSync(state, p.behind(), p.bytesBehind(), total[0], total[1], percent, null));
        if (p.more()) {
            getContext().getSelf().tell(new Pull(m.peerNid()));
        }
        return this;
    }

    /** A failure in words; many exceptions (EOFException, ClosedChannelException, ...) carry no message. */
    private static String describe(Throwable error) {
        Throwable cause = SpreadFailure.cause(error);
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    /** One line per round that copied from a peer's log (in steady state the forwards arrive first and nothing is copied). */
    private void noteRound(int peerNid, Progress p) {
        Long started = roundStarted.remove(peerNid);
        if (p.position() != null && p.copied() > 0 && started != null) {
            double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
            log.info(
                    "caught up rsid={} from the log of nid={}: {} versions ({} bytes) copied in {} s ({} MB/s), {} versions behind",
                    rsid,
                    peerNid,
                    p.copied(),
                    p.copiedBytes(),
                    String.format("%.2f", seconds),
                    String.format("%.1f", p.copiedBytes() / seconds / 1e6),
                    p.behind());
        }
    }

    private long[] copied(int peerNid) {
        return copiedSoFar.computeIfAbsent(peerNid, n -> new long[2]);
    }

    // ---- pulling the log ----

    private CompletionStage<Progress> followLog(NodeInfo peer, Position from) {
        return client.log(peer.dataUrl(), rsid, from, settings.batch()).thenCompose(batch -> {
            Position start = batch.tail().logId().equals(from.logId())
                    ? from
                    : new Position(batch.tail().logId(), batch.from(), 0, 0);
            return applyAll(peer, batch.entries())
                    .thenApplyAsync(
                            applied -> {
                                Position next = advance(start, batch);
                                if (!next.equals(from)) {
                                    save(peer.nid(), next);
                                }
                                long behind = Math.max(0, batch.tail().seq() - next.seq());
                                return new Progress(
                                        next,
                                        null,
                                        behind,
                                        Math.max(0, batch.tail().bytes() - next.bytes()),
                                        applied.copied(),
                                        applied.bytes(),
                                        !batch.entries().isEmpty() && behind > 0);
                            },
                            blocking);
        });
    }

    private static Position advance(Position start, LogBatch batch) {
        if (batch.entries().isEmpty()) {
            return start;
        }
        LogRecord last = batch.entries().get(batch.entries().size() - 1);
        return new Position(batch.tail().logId(), last.next(), last.seq(), last.cumulativeBytes());
    }

    private CompletionStage<Applied> applyAll(NodeInfo peer, List<LogRecord> entries) {
        return inParallel(
                entries, e -> e.isDelete() ? delete(e.key(), e.vtime()) : copy(peer, e.key(), e.vtime(), e.size()));
    }

    /** Runs {@code each} over the items, as many at once as the settings allow, and adds up what they copied. */
    private <T> CompletionStage<Applied> inParallel(
            List<T> items, java.util.function.Function<T, CompletionStage<Applied>> each) {
        return Source.from(items)
                .mapAsync(settings.parallelism(), each::apply)
                .runWith(Sink.fold(new Applied(0, 0), Applied::plus), mat);
    }

    /** Makes this member hold what a peer's inventory item says: the version, or its tombstone. */
    private CompletionStage<Applied> apply(NodeInfo peer, Inventory.Item item) {
        return item.deleted() ? delete(item.key(), item.vtime()) : copy(peer, item.key(), item.vtime(), item.size());
    }

    private CompletionStage<Applied> copy(NodeInfo peer, byte[] key, long vtime, long size) {
        return client.copy(peer.dataUrl(), rsid, key, vtime)
                .thenApply(c -> c == ReplicaClient.Copied.COPIED ? new Applied(1, size) : new Applied(0, 0));
    }

    private CompletionStage<Applied> delete(byte[] key, long vtime) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        store.delete(rsid, key, vtime);
                        return new Applied(0, 0);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                blocking);
    }

    private void save(int peerNid, Position p) {
        try {
            positions.save(rsid, peerNid, p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- bootstrap from the inventory ----

    private CompletionStage<Progress> bootstrap(NodeInfo peer, Cursor cursor) {
        String after = cursor == null ? null : cursor.after();
        return client.inventory(peer.dataUrl(), rsid, after, settings.batch()).thenCompose(page -> {
            Position start = cursor == null ? page.tail() : cursor.start();
            return inParallel(page.items(), item -> apply(peer, item))
                    .thenApplyAsync(
                            applied -> {
                                long listed = (cursor == null ? 0 : cursor.listed())
                                        + page.items().size();
                                long listedBytes = (cursor == null ? 0 : cursor.listedBytes())
                                        + page.items().stream()
                                                .mapToLong(Inventory.Item::size)
                                                .sum();
                                long behind = Math.max(0, start.seq() - listed);
                                long bytesBehind = Math.max(0, start.bytes() - listedBytes);
                                if (page.items().size() < settings.batch()) {
                                    // The whole inventory is here; whatever happened since it was listed is in the log
                                    // after start.
                                    save(peer.nid(), start);
                                    return new Progress(
                                            start, null, behind, bytesBehind, applied.copied(), applied.bytes(), true);
                                }
                                String last = page.items()
                                        .get(page.items().size() - 1)
                                        .name();
                                return new Progress(
                                        null,
                                        new Cursor(last, start, listed, listedBytes),
                                        behind,
                                        bytesBehind,
                                        applied.copied(),
                                        applied.bytes(),
                                        true);
                            },
                            blocking);
        });
    }

    // ---- anti-entropy ----

    private void compare(NodeInfo peer) {
        busy.add(peer.nid());
        lastCompared.put(peer.nid(), System.currentTimeMillis());
        // Listing the store is disk work: it runs on the blocking-I/O dispatcher, not on the HTTP client's threads.
        CompletionStage<Repairs> round = client.digests(peer.dataUrl(), rsid)
                .thenComposeAsync(
                        theirs -> {
                            Map<String, String> ours;
                            try {
                                ours = new Inventory(store, rsid).digests();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            Set<String> differing = new java.util.TreeSet<>();
                            theirs.buckets().forEach((bucket, digest) -> {
                                if (!digest.equals(ours.get(bucket))) {
                                    differing.add(bucket);
                                }
                            });
                            return Source.from(List.copyOf(differing))
                                    .mapAsync(1, bucket -> repairBucket(peer, bucket))
                                    .runWith(
                                            Sink.fold(
                                                    new Repairs(0, 0, 0),
                                                    (a, b) -> new Repairs(
                                                            a.buckets() + b.buckets(),
                                                            a.copied() + b.copied(),
                                                            a.deleted() + b.deleted())),
                                            mat);
                        },
                        blocking);
        getContext().pipeToSelf(round, (repairs, e) -> new Compared(peer.nid(), repairs, e));
    }

    private CompletionStage<Repairs> repairBucket(NodeInfo peer, String bucket) {
        return client.bucket(peer.dataUrl(), rsid, bucket)
                .thenComposeAsync(
                        page -> {
                            Map<String, Inventory.Item> ours = new HashMap<>();
                            try {
                                new Inventory(store, rsid).bucket(bucket).forEach(i -> ours.put(i.name(), i));
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            List<Inventory.Item> toDelete = page.items().stream()
                                    .filter(i -> i.deleted()
                                            && ours.containsKey(i.name())
                                            && !ours.get(i.name()).deleted())
                                    .toList();
                            List<Inventory.Item> toCopy = page.items().stream()
                                    .filter(i -> !i.deleted() && !ours.containsKey(i.name()))
                                    .toList();
                            if (toDelete.isEmpty() && toCopy.isEmpty()) {
                                return CompletableFuture.completedFuture(new Repairs(1, 0, 0));
                            }
                            return inParallel(toDelete, i -> apply(peer, i))
                                    .thenCompose(ignored -> inParallel(toCopy, i -> apply(peer, i))
                                            .thenApply(copied -> new Repairs(1, copied.copied(), toDelete.size())));
                        },
                        blocking);
    }

    private Behavior<Command> onCompared(Compared m) {
        busy.remove(m.peerNid());
        status.antiEntropyRounds.incrementAndGet();
        if (m.error() != null) {
            log.warn("anti-entropy rsid={} with nid={} failed: {}", rsid, m.peerNid(), describe(m.error()));
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
