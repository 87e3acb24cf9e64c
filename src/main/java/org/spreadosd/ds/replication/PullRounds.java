package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.replication.PeerProgress.Bootstrapping;
import org.spreadosd.ds.replication.PeerProgress.Following;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.LogRecord;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;

/**
 * One round of pulling from a peer of one set: a batch of its update log applied from a position, or, while
 * bootstrapping, a page of its inventory. Each round persists where it left off before it answers.
 */
final class PullRounds {
    /**
     * Where a round left this member against the peer, how far behind the peer's log it still is, what it
     * copied, and whether another round should follow at once.
     */
    record Round(PeerProgress next, long behind, long bytesBehind, long copied, long copiedBytes, boolean more) {}

    private final int rsid;
    private final ReplicaPeers peers;
    private final PeerApplier applier;
    private final LogPositions positions;
    private final int batch;
    private final Executor blocking;

    PullRounds(
            int rsid, ReplicaPeers peers, PeerApplier applier, LogPositions positions, int batch, Executor blocking) {
        this.rsid = rsid;
        this.peers = peers;
        this.applier = applier;
        this.positions = positions;
        this.batch = batch;
        this.blocking = blocking;
    }

    /** Applies one batch of the peer's log from {@code from}; a log with another id is read from its start. */
    CompletionStage<Round> followLog(NodeInfo peer, Position from) {
        return peers.log(peer.dataUrl(), rsid, from, batch).thenCompose(read -> {
            Position start = read.tail().logId().equals(from.logId())
                    ? from
                    : new Position(read.tail().logId(), read.from(), 0, 0);
            return applier.applyLog(peer, read.entries())
                    .thenApplyAsync(
                            applied -> {
                                Position next = advance(start, read);
                                if (!next.equals(from)) {
                                    save(peer.nid(), next);
                                }
                                long behind = Math.max(0, read.tail().seq() - next.seq());
                                return new Round(
                                        new Following(next),
                                        behind,
                                        Math.max(0, read.tail().bytes() - next.bytes()),
                                        applied.copied(),
                                        applied.bytes(),
                                        !read.entries().isEmpty() && behind > 0);
                            },
                            blocking);
        });
    }

    private static Position advance(Position start, LogBatch read) {
        if (read.entries().isEmpty()) {
            return start;
        }
        LogRecord last = read.entries().get(read.entries().size() - 1);
        return new Position(read.tail().logId(), last.next(), last.seq(), last.cumulativeBytes());
    }

    /**
     * Applies the next page of the peer's inventory. After the last page the member follows the log from where
     * it ended when the first page was read: whatever happened since then is in the log after that point.
     */
    CompletionStage<Round> bootstrap(NodeInfo peer, Bootstrapping at) {
        return peers.inventory(peer.dataUrl(), rsid, at.after(), batch).thenCompose(page -> {
            Position start = at.start() == null ? page.tail() : at.start();
            return applier.applyItems(peer, page.items())
                    .thenApplyAsync(
                            applied -> {
                                long listed = at.listed() + page.items().size();
                                long listedBytes = at.listedBytes()
                                        + page.items().stream()
                                                .mapToLong(Inventory.Item::size)
                                                .sum();
                                long behind = Math.max(0, start.seq() - listed);
                                long bytesBehind = Math.max(0, start.bytes() - listedBytes);
                                PeerProgress next;
                                if (page.items().size() < batch) {
                                    save(peer.nid(), start);
                                    next = new Following(start);
                                } else {
                                    String last = page.items()
                                            .get(page.items().size() - 1)
                                            .name();
                                    next = new Bootstrapping(last, start, listed, listedBytes, at.startedNanos());
                                }
                                return new Round(next, behind, bytesBehind, applied.copied(), applied.bytes(), true);
                            },
                            blocking);
        });
    }

    private void save(int peerNid, Position p) {
        try {
            positions.save(rsid, peerNid, p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
