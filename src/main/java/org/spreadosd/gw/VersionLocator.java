package org.spreadosd.gw;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.model.VersionRecord;

/**
 * Answers {@code spreadctl locate}: every live version of a key from the metadata store, and for each,
 * which members of its replication-set really hold its bytes (asked of each member, not assumed).
 */
public final class VersionLocator {
    public record Holder(NodeInfo node, boolean held) {}

    public record Located(VersionRecord version, List<Holder> holders) {}

    private final MetadataStore mds;
    private final BlobStreamClient blobs;
    private final Executor blocking;
    private final Materializer mat;

    public VersionLocator(MetadataStore mds, BlobStreamClient blobs, Executor blocking, Materializer mat) {
        this.mds = mds;
        this.blobs = blobs;
        this.blocking = blocking;
        this.mat = mat;
    }

    public CompletionStage<List<Located>> locate(byte[] key, ClusterConfig config) {
        return CompletableFuture.supplyAsync(() -> mds.versions(key), blocking).thenCompose(versions -> {
            List<CompletableFuture<Located>> all = new ArrayList<>();
            for (VersionRecord v : versions) {
                all.add(holders(v, config).thenApply(h -> new Located(v, h)).toCompletableFuture());
            }
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .thenApply(
                            ignored -> all.stream().map(CompletableFuture::join).toList());
        });
    }

    private CompletionStage<List<Holder>> holders(VersionRecord v, ClusterConfig config) {
        List<CompletableFuture<Holder>> all = new ArrayList<>();
        for (NodeInfo node : config.members(v.rsid())) {
            all.add(holds(node, v).thenApply(held -> new Holder(node, held)).toCompletableFuture());
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> all.stream().map(CompletableFuture::join).toList());
    }

    /** A member that cannot be asked counts as not holding it: locate shows what can be read now. */
    private CompletionStage<Boolean> holds(NodeInfo node, VersionRecord v) {
        return blobs.get(node.dataUrl(), v.version(), 0, 0)
                .thenCompose(found -> found.isEmpty()
                        ? CompletableFuture.completedFuture(false)
                        : found.get().data().runWith(Sink.ignore(), mat).thenApply(done -> true))
                .exceptionally(e -> false);
    }
}
