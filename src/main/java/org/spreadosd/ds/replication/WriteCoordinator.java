package org.spreadosd.ds.replication;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cluster.WritePolicy;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.CopyFanOut;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.StoredBlob;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/**
 * The coordinator's half of a replicated add: once this member has stored a version durably, it streams
 * it from its own disk to every other reachable member of the set in parallel and answers how many
 * durable copies exist, or fails when the set's write policy is not met. A member that misses the copy
 * (down, or it fails half-way) gets it later from this member's update log.
 */
public final class WriteCoordinator implements CopyFanOut {
    private static final Logger log = LoggerFactory.getLogger(WriteCoordinator.class);

    private final int selfNid;
    private final ClusterView view;
    private final BlobStreamClient blobs;
    private final DataStore store;

    public WriteCoordinator(int selfNid, ClusterView view, BlobStreamClient blobs, DataStore store) {
        this.selfNid = selfNid;
        this.view = view;
        this.blobs = blobs;
        this.store = store;
    }

    /** Copies a version stored here to the set's other reachable members; answers the number of durable copies. */
    @Override
    public CompletionStage<Integer> replicate(VersionId v, StoredBlob blob) {
        int rsid = v.rsid();
        ClusterConfig config = view.config();
        List<NodeInfo> members = config.members(rsid);
        List<NodeInfo> peers = members.stream()
                .filter(n -> n.nid() != selfNid && !config.isFault(n.nid()) && view.isReachable(n))
                .toList();
        List<CompletableFuture<Integer>> copies =
                peers.stream().map(peer -> forward(peer, v, blob)).toList();
        return CompletableFuture.allOf(copies.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
            int made = 1 + copies.stream().mapToInt(CompletableFuture::join).sum();
            WritePolicy policy = config.writePolicy(rsid);
            int required = policy.required(members.size());
            if (made < required) {
                throw new SpreadFailure(
                        FailureCode.UNAVAILABLE,
                        "write policy '" + policy + "' of replication-set " + rsid + " needs " + required
                                + " copies, only " + made + " of " + members.size() + " members stored version "
                                + v.vtime());
            }
            return made;
        });
    }

    /** The copy announces the stored CRC, so the peer refuses bytes damaged on the way before they become visible. */
    private CompletableFuture<Integer> forward(NodeInfo peer, VersionId v, StoredBlob blob) {
        return blobs.put(
                        peer.dataUrl(),
                        v,
                        blob.header().contentType(),
                        BlobBody.streaming(BlobService.source(store, blob, 0, blob.size()), blob.size()),
                        false,
                        blob.header().crc32c())
                .thenApply(facts -> 1)
                .exceptionally(e -> {
                    if (SpreadFailure.is(e, FailureCode.ALREADY_STORED)) {
                        return 1; // it already pulled the version from this member's log
                    }
                    log.warn(
                            "replica not written {} to nid={}: {} (it catches up from the update log)",
                            v,
                            peer.nid(),
                            SpreadFailure.describe(e));
                    return 0;
                })
                .toCompletableFuture();
    }
}
