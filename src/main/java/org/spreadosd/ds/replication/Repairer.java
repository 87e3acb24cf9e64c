package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
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
import org.spreadosd.model.Keys;

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
    private final Map<Version, CompletableFuture<Boolean>> running = new ConcurrentHashMap<>();

    /** A version by value (a key's bytes compare by content here). */
    private record Version(int rsid, ByteBuffer key, long vtime) {}

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
    public CompletionStage<Boolean> repair(int rsid, byte[] key, long vtime) {
        Version version = new Version(rsid, ByteBuffer.wrap(key.clone()), vtime);
        CompletableFuture<Boolean> mine = new CompletableFuture<>();
        CompletableFuture<Boolean> underWay = running.putIfAbsent(version, mine);
        if (underWay != null) {
            return underWay;
        }
        repairOnce(rsid, key, vtime).whenComplete((repaired, e) -> {
            running.remove(version, mine);
            mine.complete(e == null && repaired);
        });
        return mine;
    }

    private CompletionStage<Boolean> repairOnce(int rsid, byte[] key, long vtime) {
        return CompletableFuture.supplyAsync(() -> damaged(rsid, key, vtime), blocking)
                .thenCompose(damaged -> {
                    if (!damaged) {
                        return CompletableFuture.completedFuture(true);
                    }
                    ClusterConfig config = view.config();
                    List<NodeInfo> peers = config.members(rsid).stream()
                            .filter(n -> n.nid() != selfNid)
                            .sorted((a, b) -> Boolean.compare(!view.isReachable(a), !view.isReachable(b)))
                            .toList();
                    return tryPeers(peers, 0, rsid, key, vtime);
                })
                .exceptionally(e -> {
                    log.error(
                            "repair failed rsid={} key={} vtime={}: {}",
                            rsid,
                            Keys.printable(key),
                            vtime,
                            SpreadFailure.describe(e));
                    return false;
                });
    }

    /**
     * Whether the version must be copied again: its file is missing, unreadable or damaged, and then moved
     * aside. The file is checked first because a report can come late (a read that opened the damaged file
     * before an earlier repair replaced it), and the good copy must stay.
     */
    private boolean damaged(int rsid, byte[] key, long vtime) {
        try {
            Optional<StoredBlob> blob = store.find(rsid, key, vtime);
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
            store.quarantine(rsid, key, vtime);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CompletionStage<Boolean> tryPeers(List<NodeInfo> peers, int i, int rsid, byte[] key, long vtime) {
        if (i >= peers.size()) {
            log.error(
                    "cannot repair rsid={} key={} vtime={}: no other member holds a good copy",
                    rsid,
                    Keys.printable(key),
                    vtime);
            return CompletableFuture.completedFuture(false);
        }
        NodeInfo peer = peers.get(i);
        return client.copy(peer.dataUrl(), rsid, key, vtime)
                .handle((copied, e) -> {
                    if (e == null && copied == ReplicaClient.Copied.COPIED) {
                        status.repaired.incrementAndGet();
                        log.info(
                                "repaired rsid={} key={} vtime={} with the copy of nid={}",
                                rsid,
                                Keys.printable(key),
                                vtime,
                                peer.nid());
                        return CompletableFuture.completedFuture(true);
                    }
                    if (e == null && copied == ReplicaClient.Copied.DELETED_HERE) {
                        return CompletableFuture.completedFuture(true);
                    }
                    return tryPeers(peers, i + 1, rsid, key, vtime);
                })
                .thenCompose(s -> s);
    }
}
