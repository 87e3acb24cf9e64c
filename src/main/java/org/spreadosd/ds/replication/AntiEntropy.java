package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.Inventory;

/**
 * One anti-entropy round with a peer of one set: the inventories are compared bucket by bucket (a digest
 * each), and in every bucket that differs this member takes the peer's tombstones and copies the versions it
 * has never seen. A version this member deleted is never copied back: its tombstone is in its own inventory.
 */
final class AntiEntropy {
    /** What a round found and repaired. */
    record Repairs(int buckets, long copied, long deleted) {
        static final Repairs NONE = new Repairs(0, 0, 0);

        Repairs plus(Repairs o) {
            return new Repairs(buckets + o.buckets, copied + o.copied, deleted + o.deleted);
        }
    }

    private final int rsid;
    private final DataStore store;
    private final ReplicaPeers peers;
    private final PeerApplier applier;
    private final Materializer mat;
    private final Executor blocking;

    AntiEntropy(
            int rsid, DataStore store, ReplicaPeers peers, PeerApplier applier, Materializer mat, Executor blocking) {
        this.rsid = rsid;
        this.store = store;
        this.peers = peers;
        this.applier = applier;
        this.mat = mat;
        this.blocking = blocking;
    }

    CompletionStage<Repairs> compare(NodeInfo peer) {
        // Listing the store is disk work: it runs on the blocking-I/O dispatcher, not on the HTTP client's threads.
        return peers.digests(peer.dataUrl(), rsid)
                .thenComposeAsync(
                        theirs -> {
                            Map<String, String> ours;
                            try {
                                ours = new Inventory(store, rsid).digests();
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            Set<String> differing = new TreeSet<>();
                            theirs.buckets().forEach((bucket, digest) -> {
                                if (!digest.equals(ours.get(bucket))) {
                                    differing.add(bucket);
                                }
                            });
                            return Source.from(List.copyOf(differing))
                                    .mapAsync(1, bucket -> repairBucket(peer, bucket))
                                    .runWith(Sink.fold(Repairs.NONE, Repairs::plus), mat);
                        },
                        blocking);
    }

    private CompletionStage<Repairs> repairBucket(NodeInfo peer, String bucket) {
        return peers.bucket(peer.dataUrl(), rsid, bucket)
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
                            return applier.applyItems(peer, toDelete)
                                    .thenCompose(ignored -> applier.applyItems(peer, toCopy)
                                            .thenApply(copied -> new Repairs(1, copied.copied(), toDelete.size())));
                        },
                        blocking);
    }
}
