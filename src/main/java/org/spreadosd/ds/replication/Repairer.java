package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.StoredBlob;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/**
 * Replaces a damaged version: moves the file aside and copies the version again from a member that holds it.
 * Every failed read of a damaged version reports it, so one version may be reported many times at once:
 * one repair runs per version and the reports that arrive meanwhile share its outcome.
 */
public final class Repairer {
    private static final Logger log = LoggerFactory.getLogger(Repairer.class);

    private final int selfNid;
    private final ClusterView view;
    private final DataStore store;
    private final ReplicaClient client;
    private final Executor blocking;
    private final ReplicationStatus status;
    private final Map<VersionId, CompletableFuture<Boolean>> running = new ConcurrentHashMap<>();

    public Repairer(
            int selfNid,
            ClusterView view,
            DataStore store,
            ReplicaClient client,
            Executor blocking,
            ReplicationStatus status) {
        this.selfNid = selfNid;
        this.view = view;
        this.store = store;
        this.client = client;
        this.blocking = blocking;
        this.status = status;
    }

    /** Answers whether a good copy is in place again; joins the repair of the version already under way, if any. */
    public CompletionStage<Boolean> repair(VersionId v) {
        // keyed by a copy: the caller's array must not change the entry while the repair runs
        VersionId version = new VersionId(v.rsid(), v.key().clone(), v.vtime());
        CompletableFuture<Boolean> mine = new CompletableFuture<>();
        CompletableFuture<Boolean> underWay = running.putIfAbsent(version, mine);
        if (underWay != null) {
            return underWay;
        }
        repairOnce(version).whenComplete((repaired, e) -> {
            running.remove(version, mine);
            mine.complete(e == null && repaired);
        });
        return mine;
    }

    private CompletionStage<Boolean> repairOnce(VersionId v) {
        return CompletableFuture.supplyAsync(() -> damaged(v), blocking)
                .thenCompose(damaged -> {
                    if (!damaged) {
                        return CompletableFuture.completedFuture(true);
                    }
                    ClusterConfig config = view.config();
                    List<NodeInfo> peers = config.members(v.rsid()).stream()
                            .filter(n -> n.nid() != selfNid)
                            .sorted((a, b) -> Boolean.compare(!view.isReachable(a), !view.isReachable(b)))
                            .toList();
                    return tryPeers(peers, 0, v);
                })
                .exceptionally(e -> {
                    log.error("repair failed {}: {}", v, SpreadFailure.describe(e));
                    return false;
                });
    }

    /**
     * Whether the version must be copied again: its file is missing, unreadable or damaged, and then moved
     * aside. The file is checked first because a report can come late (a read that opened the damaged file
     * before an earlier repair replaced it), and the good copy must stay.
     */
    private boolean damaged(VersionId v) {
        try {
            Optional<StoredBlob> blob = store.find(v);
            if (blob.isPresent()) {
                store.verify(blob.get());
                return false;
            }
        } catch (IOException unreadable) {
            // moved aside below, as every damaged file is
        } catch (SpreadFailure damaged) {
            if (damaged.code() != FailureCode.CORRUPT) {
                throw damaged;
            }
        }
        try {
            store.quarantine(v);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CompletionStage<Boolean> tryPeers(List<NodeInfo> peers, int i, VersionId v) {
        if (i >= peers.size()) {
            log.error("cannot repair {}: no other member holds a good copy", v);
            return CompletableFuture.completedFuture(false);
        }
        NodeInfo peer = peers.get(i);
        return client.copy(peer.dataUrl(), v)
                .handle((copied, e) -> {
                    if (e == null && copied == ReplicaPeers.Copied.COPIED) {
                        status.repaired.incrementAndGet();
                        log.info("repaired {} with the copy of nid={}", v, peer.nid());
                        return CompletableFuture.completedFuture(true);
                    }
                    if (e == null && copied == ReplicaPeers.Copied.DELETED_HERE) {
                        return CompletableFuture.completedFuture(true);
                    }
                    return tryPeers(peers, i + 1, v);
                })
                .thenCompose(s -> s);
    }
}
