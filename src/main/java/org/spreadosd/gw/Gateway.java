package org.spreadosd.gw;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cluster.WritePolicy;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;
import org.spreadosd.ds.BlobStreamClient.BlobFacts;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.Keys;
import org.spreadosd.model.Limits;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionRecord;

/**
 * What a gateway does for a client, whatever the protocol: it asks the metadata store and moves bytes
 * to and from the data servers. HTTP and MessagePack-RPC front-ends both call this class.
 *
 * <p>An add stores the data first and the metadata row last ({@link #stage} then {@link #commit}),
 * so no reader ever finds metadata that points at missing bytes.
 *
 * <p>Every method checks the request against the {@link Limits} first, before it asks the metadata store
 * or moves a byte: both APIs get the same refusals, and an oversized value never reaches the store.
 */
public final class Gateway {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);

    /** Data stored on the set under a reserved version, not yet visible. */
    public record StagedVersion(ObjectKey okey, BlobFacts facts, String contentType) {}

    private final MetadataStore mds;
    private final ClusterView view;
    private final DataLinks links;
    private final Executor blocking;
    private final GatewayMode mode;
    private final String location;
    private final Placement placement = new Placement();
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private final LongAdder deletes = new LongAdder();
    private final SuspectNodes suspects = new SuspectNodes(Duration.ofSeconds(5));
    private final Materializer materializer;
    private final VersionLocator locator;
    private final Limits limits;

    /** @param blocking where the calls to {@code mds} run: the metadata store's dispatcher, no disk work */
    public Gateway(
            MetadataStore mds,
            ClusterView view,
            DataLinks links,
            Executor blocking,
            GatewayMode mode,
            String location,
            Limits limits,
            Materializer materializer) {
        this.limits = limits;
        this.materializer = materializer;
        this.mds = mds;
        this.view = view;
        this.links = links;
        this.blocking = blocking;
        this.mode = mode;
        this.location = location;
        this.locator = new VersionLocator(mds, links.remote(), blocking, materializer);
    }

    public Limits limits() {
        return limits;
    }

    public ClusterConfig config() {
        return view.config();
    }

    /** Requests served since start: reads of bytes, adds, deletes. */
    public long[] counters() {
        return new long[] {reads.sum(), writes.sum(), deletes.sum()};
    }

    // ---- adding ----

    /** Claims the next vtime of the key and streams the data to its set. */
    public CompletionStage<StagedVersion> stage(byte[] key, BlobBody body, String contentType) {
        if (mode.refusesWrites()) {
            body.discard(materializer);
            return readOnly();
        }
        try {
            limits.key(key);
            limits.contentType(contentType);
        } catch (SpreadFailure e) {
            body.discard(materializer);
            return CompletableFuture.failedFuture(e);
        }
        String cutOff = view.cutOff();
        if (cutOff != null) {
            body.discard(materializer);
            return CompletableFuture.failedFuture(new SpreadFailure(
                    FailureCode.UNAVAILABLE,
                    "this node is cut off from the cluster (" + cutOff + "): it takes no adds until it is back,"
                            + " a copy only it held could not be read elsewhere"));
        }
        writes.increment();
        ClusterConfig config = view.config();
        AtomicReference<Throwable> senderFailed = new AtomicReference<>();
        BlobBody watched = body.isWhole()
                ? body
                : BlobBody.streaming(
                        body.stream().mapError(Throwable.class, e -> {
                            senderFailed.compareAndSet(null, e);
                            return e;
                        }),
                        body.size());
        return reserveAndPut(key, watched, contentType, senderFailed, config, Set.of());
    }

    /**
     * Reserves the key's next vtime on its set (a new key: one placement chooses, avoiding {@code failedSets}) and
     * streams the add there. A new key whose set could not take it (its coordinator could not meet the write policy,
     * or every member was lost) is placed again on another set while one can take it and the bytes are still in
     * hand: the failure detector needs seconds to see a member die, and until then placement cannot know.
     */
    private CompletionStage<StagedVersion> reserveAndPut(
            byte[] key,
            BlobBody body,
            String contentType,
            AtomicReference<Throwable> senderFailed,
            ClusterConfig config,
            Set<Integer> failedSets) {
        AtomicBoolean placed = new AtomicBoolean();
        return onBlocking(() -> mds.reserve(key, () -> {
                    placed.set(true);
                    return placement.next(config, view::isReachable, failedSets);
                }))
                .thenCompose(okey -> {
                    List<NodeInfo> order = readOrder(config, okey.rsid(), key);
                    if (order.isEmpty() || !Placement.canWrite(config, okey.rsid(), view::isReachable)) {
                        body.discard(materializer);
                        WritePolicy policy = config.writePolicy(okey.rsid());
                        int members = config.members(okey.rsid()).size();
                        return onBlocking(() -> {
                            mds.abandon(okey);
                            throw new SpreadFailure(
                                    FailureCode.UNAVAILABLE,
                                    "replication-set " + okey.rsid() + " cannot take the add: its write policy '"
                                            + policy + "' needs " + policy.required(members)
                                            + " copies and too few of its " + members + " members are reachable");
                        });
                    }
                    return putVia(order, 0, okey, contentType, body, senderFailed)
                            .exceptionallyCompose(e -> {
                                Set<Integer> tried = new HashSet<>(failedSets);
                                tried.add(okey.rsid());
                                boolean again = placed.get()
                                        && body.isWhole()
                                        && senderFailed.get() == null
                                        && (SpreadFailure.is(e, FailureCode.UNAVAILABLE)
                                                || SpreadFailure.is(e, FailureCode.PEER_LOST))
                                        && Placement.canPlace(config, view::isReachable, tried);
                                if (!again) {
                                    return CompletableFuture.failedFuture(e);
                                }
                                log.warn(
                                        "add placed again key={} vtime={} rsid={}: {}; another set takes it",
                                        Keys.printable(key),
                                        okey.vtime(),
                                        okey.rsid(),
                                        SpreadFailure.describe(e));
                                // Copies the failed set made are named by no row: removed now, or by the scrub.
                                deleteBytes(okey);
                                return reserveAndPut(key, body, contentType, senderFailed, config, tried);
                            });
                });
    }

    /**
     * Streams the add to {@code order[index]}, which coordinates it: it stores the version and copies it to the
     * others. When that member is lost before it answers (a dead or frozen DS, a reset connection) and the bytes are
     * still in hand (an upload that arrived whole), the next member coordinates the same vtime: a member that
     * already got the version from the lost one takes the identical bytes as stored, so the retry cannot make two
     * different versions. A streamed upload cannot be replayed and fails with 503.
     */
    private CompletionStage<StagedVersion> putVia(
            List<NodeInfo> order,
            int index,
            ObjectKey okey,
            String contentType,
            BlobBody body,
            AtomicReference<Throwable> senderFailed) {
        NodeInfo writer = order.get(index);
        return links.to(writer)
                .put(okey.version(), contentType, body, true)
                .thenApply(facts -> new StagedVersion(okey, facts, contentType))
                .exceptionallyCompose(e -> {
                    // An upload the client cut short (or sent malformed) fails the data server's write too: that is
                    // the client's fault, and says nothing about the member.
                    boolean clientsFault = senderFailed.get() != null;
                    if (!clientsFault) {
                        noteFailure(writer, e);
                    }
                    boolean retry = !clientsFault
                            && SpreadFailure.is(e, FailureCode.PEER_LOST)
                            && body.isWhole()
                            && index + 1 < order.size();
                    if (retry) {
                        log.warn(
                                "add coordinator lost key={} vtime={} rsid={} nid={}: {}; nid={} coordinates it",
                                Keys.printable(okey.key()),
                                okey.vtime(),
                                okey.rsid(),
                                writer.nid(),
                                SpreadFailure.describe(e),
                                order.get(index + 1).nid());
                        return putVia(order, index + 1, okey, contentType, body, senderFailed);
                    }
                    return onBlocking(() -> {
                        SpreadFailure failure =
                                clientsFault ? senderFault(senderFailed.get()) : SpreadFailure.unwrap(e);
                        mds.abandon(okey);
                        log.warn(
                                "add failed key={} vtime={} rsid={} nid={}: {}",
                                Keys.printable(okey.key()),
                                okey.vtime(),
                                okey.rsid(),
                                writer.nid(),
                                failure.getMessage());
                        throw failure;
                    });
                });
    }

    /** Makes staged data visible as a new version; on failure the staged bytes are discarded. */
    public CompletionStage<VersionRecord> commit(StagedVersion staged, byte[] vname, Attributes attrs) {
        ObjectKey okey = staged.okey();
        return checked(() -> {
                    limits.vname(vname);
                    limits.attrs(attrs);
                })
                .thenCompose(ok -> onBlocking(() -> mds.commit(
                        okey, vname, staged.facts().size(), staged.facts().crc32c(), staged.contentType(), attrs)))
                .whenComplete((v, e) -> {
                    if (e != null) {
                        discard(staged);
                    } else {
                        // The hot path: one line per add is an access log's job (-v shows them); removes and deletes,
                        // rare and destructive, stay at INFO.
                        log.debug(
                                "added key={} vtime={} rsid={} size={}",
                                Keys.printable(okey.key()),
                                okey.vtime(),
                                okey.rsid(),
                                v.size());
                    }
                });
    }

    /** Undoes {@link #stage}: drops the bytes and the reservation. */
    public CompletionStage<Void> discard(StagedVersion staged) {
        ObjectKey okey = staged.okey();
        // The reservation goes first, durably: then no crash can leave a tombstone under a vtime the key could be
        // given again. Bytes whose delete fails after it are garbage the scrub finds (no row names them).
        return onBlocking(() -> {
                    mds.abandon(okey);
                    return null;
                })
                .thenCompose(ignored -> deleteBytes(okey));
    }

    /** {@link #stage} then {@link #commit}, with every limit checked before the first byte moves. */
    public CompletionStage<VersionRecord> add(
            byte[] key, BlobBody body, String contentType, byte[] vname, Attributes attrs) {
        try {
            limits.vname(vname);
            limits.attrs(attrs);
        } catch (SpreadFailure e) {
            body.discard(materializer);
            return CompletableFuture.failedFuture(e);
        }
        return stage(key, body, contentType).thenCompose(staged -> commit(staged, vname, attrs));
    }

    // ---- reading ----

    public CompletionStage<Optional<VersionRecord>> find(byte[] key, Selector selector) {
        Selector effective = mode.apply(selector);
        return checked(() -> {
                    limits.key(key);
                    limits.selector(selector);
                })
                .thenCompose(ok -> onBlocking(() -> mds.find(key, effective)));
    }

    /**
     * Streams a slice of a version from the first member of its set that has it, falling back to the
     * next member on a miss or an error before the first byte.
     */
    public CompletionStage<BlobDownload> open(VersionRecord v, long offset, long length) {
        return open(v.objectKey(), offset, length);
    }

    /**
     * Streams a slice of a version from the first member of its set that has it, falling back to the
     * next member on a miss or an error before the first byte. Fails with 404 when every member
     * answered that it does not hold the version, with 503 when some could not answer.
     */
    public CompletionStage<BlobDownload> open(ObjectKey okey, long offset, long length) {
        try {
            limits.key(okey.key());
        } catch (SpreadFailure e) {
            return CompletableFuture.failedFuture(e);
        }
        reads.increment();
        ClusterConfig config = view.config();
        List<NodeInfo> reachable = readOrder(config, okey.rsid(), okey.key());
        // With no member reachable, every member is tried anyway, each for at most the answer timeout: an
        // "unreachable" verdict of the failure detector may be a member that missed heartbeats on a busy host (a
        // JVM just started, a long GC pause), and a read it can still serve beats a certain 503.
        List<NodeInfo> order =
                reachable.isEmpty() ? ReplicaOrder.of(config, okey.rsid(), okey.key(), location) : reachable;
        // Only when every member answered "not here" is it a 404; a FAULT member left out may hold it.
        boolean askedEveryMember = order.size() == config.members(okey.rsid()).size();
        String down = askedEveryMember
                ? null
                : "members down: "
                        + config.members(okey.rsid()).stream()
                                .filter(n -> !order.contains(n))
                                .map(n -> "nid " + n.nid())
                                .toList();
        return openFrom(order, 0, okey, offset, length, down, askedEveryMember);
    }

    private CompletionStage<BlobDownload> openFrom(
            List<NodeInfo> order,
            int index,
            ObjectKey v,
            long offset,
            long length,
            String lastProblem,
            boolean allMissed) {
        if (index >= order.size()) {
            String why = order.isEmpty()
                    ? "no member of replication-set " + v.rsid() + " is reachable"
                    : "no member of replication-set " + v.rsid() + " could serve it (" + lastProblem + ")";
            return CompletableFuture.failedFuture(new SpreadFailure(
                    allMissed && !order.isEmpty() ? FailureCode.NOT_FOUND : FailureCode.UNAVAILABLE,
                    "version " + v.vtime() + " of key " + Keys.printable(v.key()) + ": " + why));
        }
        NodeInfo node = order.get(index);
        return links.to(node)
                .get(v.version(), offset, length)
                .handle((found, e) -> {
                    if (e == null) {
                        suspects.answered(node.nid());
                    } else {
                        noteFailure(node, e);
                    }
                    if (e == null && found.isPresent()) {
                        return CompletableFuture.completedFuture(found.get());
                    }
                    String problem = e == null
                            ? "nid " + node.nid() + " does not hold it"
                            : "nid " + node.nid() + ": " + SpreadFailure.describe(e);
                    log.warn(
                            "read fallback key={} vtime={} rsid={}: {}",
                            Keys.printable(v.key()),
                            v.vtime(),
                            v.rsid(),
                            problem);
                    return openFrom(order, index + 1, v, offset, length, problem, allMissed && e == null);
                })
                .thenCompose(s -> s);
    }

    /**
     * Members of the set in the order to try them: own location first and a per-key order (ReplicaOrder),
     * members that failed a moment ago last. Members that Pekko's failure detector sees as unreachable are
     * left out: trying one could only cost a connection timeout.
     */
    private List<NodeInfo> readOrder(ClusterConfig config, int rsid, byte[] key) {
        return ReplicaOrder.of(config, rsid, key, location).stream()
                .filter(view::isReachable)
                .sorted(Comparator.comparingInt(n -> suspects.isSuspect(n.nid()) ? 1 : 0))
                .toList();
    }

    /** An http:// URL on a member DS that serves the version's bytes directly ({@code /direct}). */
    public CompletionStage<Optional<String>> url(byte[] key, Selector selector) {
        return find(key, selector)
                .thenApply(found -> found.flatMap(v -> {
                    List<NodeInfo> order = readOrder(view.config(), v.rsid(), key);
                    return order.stream()
                            .filter(n -> n.httpUrl() != null)
                            .findFirst()
                            .map(n -> n.httpUrl() + "/direct/" + v.rsid() + "/" + v.vtime() + "/"
                                    + PathCodec.encodePath(key));
                }));
    }

    /** Every live version of the key and, for each, which members of its set really hold its bytes now. */
    public CompletionStage<List<VersionLocator.Located>> locate(byte[] key) {
        return checked(() -> limits.key(key)).thenCompose(ok -> locator.locate(key, view.config()));
    }

    public CompletionStage<Long> countVersions() {
        return onBlocking(mds::countVersions);
    }

    public CompletionStage<List<VersionRecord>> versions(byte[] key) {
        return checked(() -> limits.key(key)).thenCompose(ok -> onBlocking(() -> mds.versions(key)));
    }

    // ---- changing ----

    public CompletionStage<Optional<ObjectKey>> updateAttrs(byte[] key, Attributes attrs) {
        return ifWritable(() -> checked(() -> {
                    limits.key(key);
                    limits.attrs(attrs);
                })
                .thenCompose(ok -> onBlocking(() -> mds.updateAttrs(key, attrs))));
    }

    public CompletionStage<Optional<ObjectKey>> remove(byte[] key) {
        return ifWritable(() -> checked(() -> limits.key(key))
                .thenCompose(ok -> onBlocking(() -> mds.remove(key)))
                .thenApply(mark -> {
                    mark.ifPresent(m ->
                            log.info("removed key={} mark vtime={} rsid={}", Keys.printable(key), m.vtime(), m.rsid()));
                    return mark;
                }));
    }

    /** Deletes the metadata row first, then the bytes on every member, so no reader sees a row without data. */
    public CompletionStage<Optional<VersionRecord>> delete(byte[] key, Selector selector) {
        return ifWritable(() -> checked(() -> {
                    limits.key(key);
                    limits.selector(selector);
                })
                .thenCompose(ok -> deleteSelected(key, selector)));
    }

    private CompletionStage<Optional<VersionRecord>> deleteSelected(byte[] key, Selector selector) {
        deletes.increment();
        return onBlocking(() -> mds.delete(key, selector)).thenCompose(deleted -> {
            if (deleted.isEmpty()) {
                return CompletableFuture.completedFuture(deleted);
            }
            VersionRecord v = deleted.get();
            log.info("deleted key={} vtime={} rsid={}", Keys.printable(key), v.vtime(), v.rsid());
            return deleteBytes(v.objectKey()).thenApply(ignored -> deleted);
        });
    }

    /**
     * The garbage scan: an add that died between {@link #stage} and {@link #commit} (a crashed gateway)
     * leaves a reservation and perhaps bytes on the set. Reservations older than {@code grace} are
     * dropped with their bytes. Answers how many were swept.
     */
    public CompletionStage<Integer> sweepStaleReservations(Duration grace) {
        return onBlocking(() -> mds.stalePending(System.currentTimeMillis() - grace.toMillis(), 1000))
                .thenCompose(stale -> {
                    CompletionStage<Void> all = CompletableFuture.completedFuture(null);
                    for (ObjectKey okey : stale) {
                        all = all.thenCompose(ignored -> deleteBytes(okey))
                                .thenCompose(ignored -> onBlocking(() -> {
                                    mds.abandon(okey);
                                    log.info(
                                            "garbage: dropped an add that never completed key={} vtime={} rsid={}",
                                            Keys.printable(okey.key()),
                                            okey.vtime(),
                                            okey.rsid());
                                    return null;
                                }));
                    }
                    return all.thenApply(ignored -> stale.size());
                });
    }

    /** Best effort: bytes left behind on an unreachable member are garbage the scan removes later. */
    private CompletionStage<Void> deleteBytes(ObjectKey okey) {
        List<NodeInfo> members = view.config().members(okey.rsid());
        CompletableFuture<?>[] all = members.stream()
                .map(n -> links.to(n)
                        .delete(okey.version())
                        .exceptionally(e -> {
                            log.warn(
                                    "could not delete bytes key={} vtime={} rsid={} on nid={}: {}",
                                    Keys.printable(okey.key()),
                                    okey.vtime(),
                                    okey.rsid(),
                                    n.nid(),
                                    SpreadFailure.describe(e));
                            return false;
                        })
                        .toCompletableFuture())
                .toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(all);
    }

    /**
     * The failure of the client's own upload stream: its code if it is the client's (413: too large, 400: cut short),
     * else {@link FailureCode#CLIENT_ABORTED}.
     */
    private static SpreadFailure senderFault(Throwable e) {
        SpreadFailure f = SpreadFailure.unwrap(e);
        if (f.httpStatus() < 500) {
            return f;
        }
        return new SpreadFailure(
                FailureCode.CLIENT_ABORTED,
                "the upload ended before all of its bytes arrived: " + SpreadFailure.describe(e));
    }

    private void noteFailure(NodeInfo node, Throwable e) {
        FailureCode code = SpreadFailure.unwrap(e).code();
        if (code == FailureCode.PEER_LOST || code == FailureCode.UNAVAILABLE) {
            suspects.failed(node.nid());
        }
    }

    private <T> CompletionStage<T> ifWritable(Supplier<CompletionStage<T>> write) {
        return mode.refusesWrites() ? readOnly() : write.get();
    }

    private <T> CompletionStage<T> readOnly() {
        return CompletableFuture.failedFuture(new SpreadFailure(
                FailureCode.READ_ONLY,
                "this gateway is read-only"
                        + (mode.snapshotTime() != null
                                ? " (snapshot at vtime " + mode.snapshotTime() + ")"
                                : mode.snapshotName() != null
                                        ? " (snapshot of version name "
                                                + new String(mode.snapshotName(), StandardCharsets.UTF_8) + ")"
                                        : "")));
    }

    /** Runs the limit checks: a completed stage, or one failed with the limit a request is over. */
    private static CompletableFuture<Void> checked(Runnable checks) {
        try {
            checks.run();
            return CompletableFuture.completedFuture(null);
        } catch (SpreadFailure e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private <T> CompletableFuture<T> onBlocking(Supplier<T> body) {
        return CompletableFuture.supplyAsync(body, blocking);
    }
}
