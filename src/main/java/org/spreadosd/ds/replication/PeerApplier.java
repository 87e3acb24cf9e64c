package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.replication.ReplicaProtocol.LogRecord;
import org.spreadosd.model.VersionId;

/**
 * Makes this member hold what a peer says it holds, for one set: a version is copied from the peer (unless it is
 * here or was deleted here), a delete becomes a tombstone here. Shared by the pull rounds and anti-entropy.
 */
final class PeerApplier {
    /** What applying a batch copied. */
    record Applied(long copied, long bytes) {
        static final Applied NOTHING = new Applied(0, 0);

        Applied plus(Applied o) {
            return new Applied(copied + o.copied, bytes + o.bytes);
        }
    }

    private final int rsid;
    private final DataStore store;
    private final ReplicaPeers peers;
    private final int parallelism;
    private final Materializer mat;
    private final Executor blocking;

    PeerApplier(int rsid, DataStore store, ReplicaPeers peers, int parallelism, Materializer mat, Executor blocking) {
        this.rsid = rsid;
        this.store = store;
        this.peers = peers;
        this.parallelism = parallelism;
        this.mat = mat;
        this.blocking = blocking;
    }

    CompletionStage<Applied> applyLog(NodeInfo peer, List<LogRecord> entries) {
        return inParallel(
                entries,
                e -> e.isDelete()
                        ? delete(new VersionId(rsid, e.key(), e.vtime()))
                        : copy(peer, new VersionId(rsid, e.key(), e.vtime()), e.size()));
    }

    CompletionStage<Applied> applyItems(NodeInfo peer, List<Inventory.Item> items) {
        return inParallel(items, item -> apply(peer, item));
    }

    /** Runs {@code each} over the items, as many at once as the settings allow, and adds up what they copied. */
    private <T> CompletionStage<Applied> inParallel(List<T> items, Function<T, CompletionStage<Applied>> each) {
        return Source.from(items)
                .mapAsync(parallelism, each::apply)
                .runWith(Sink.fold(Applied.NOTHING, Applied::plus), mat);
    }

    /** The version, or its tombstone. */
    private CompletionStage<Applied> apply(NodeInfo peer, Inventory.Item item) {
        VersionId v = new VersionId(rsid, item.key(), item.vtime());
        return item.deleted() ? delete(v) : copy(peer, v, item.size());
    }

    private CompletionStage<Applied> copy(NodeInfo peer, VersionId v, long size) {
        return peers.copy(peer.dataUrl(), v)
                .thenApply(c -> c == ReplicaPeers.Copied.COPIED ? new Applied(1, size) : Applied.NOTHING);
    }

    private CompletionStage<Applied> delete(VersionId v) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        store.delete(v);
                        return Applied.NOTHING;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                blocking);
    }
}
