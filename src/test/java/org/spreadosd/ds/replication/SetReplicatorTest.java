package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.StoredBlob;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.ds.replication.ReplicationStatus.PeerSync;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * One set's replicator alone: this member's real store on a temporary directory, the other member of the set an
 * {@link InMemoryPeer} (no HTTP, no process). Covers a bootstrap from the peer's inventory and the log followed
 * from where it ended, a peer's log written anew, deletes as tombstones nothing brings back, and anti-entropy.
 */
class SetReplicatorTest {
    static final int RSID = 0;
    static final int SELF = 1;
    static final int PEER = 2;
    static final Duration PATIENCE = Duration.ofSeconds(30);
    static final Duration NO_ANTI_ENTROPY = Duration.ofHours(1);

    @TempDir
    Path dir;

    ActorTestKit kit;
    ExecutorService executor;
    DataStore here;
    InMemoryPeer peer;
    TestProbe<Object> probe;
    final ClusterView view = new ClusterView();
    final ReplicationStatus status = new ReplicationStatus();

    @BeforeEach
    void start() throws IOException {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
        executor = Executors.newFixedThreadPool(4);
        here = new DataStore(dir.resolve("here"), 1 << 20);
        peer = new InMemoryPeer(RSID, here, executor);
        probe = kit.createTestProbe();
        NodeInfo self = new NodeInfo(SELF, "self", "127.0.0.1:1", List.of(RSID), "here", "mem://self", null);
        NodeInfo other = new NodeInfo(PEER, "peer", "127.0.0.1:2", List.of(RSID), "here", "mem://peer", null);
        view.update(new ClusterConfig(1, List.of(self, other), Map.of(), Set.of()));
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
        executor.shutdownNow();
    }

    @Test
    void aNewMemberCopiesThePeersInventoryThenFollowsItsLogFromWhereItEndedWhenTheCopyBegan() throws Exception {
        for (int i = 0; i < 7; i++) {
            peer.put("k" + i, 100 + i);
        }
        peer.delete("k6", 106);
        // Added while the inventory is being copied: it is in the log after the point the copy began.
        peer.afterNextInventoryPage(() -> peer.put("during", 200));

        spawn(NO_ANTI_ENTROPY);

        eventually("every version is here, the one added during the copy too", () -> {
            for (int i = 0; i < 6; i++) {
                assertTrue(holds("k" + i, 100 + i), "k" + i);
            }
            assertTrue(holds("during", 200));
        });
        assertTrue(here.isDeleted(new VersionId(RSID, Keys.utf8("k6"), 106)), "the peer's tombstone became one here");
        assertFalse(holds("k6", 106));
        Position began = peer.inventoryTails.get(0);
        assertEquals(8, began.seq(), "the copy began after the 8 records logged before it");
        assertEquals(began, peer.logReads.get(0), "the log is followed from where it ended when the copy began");
        eventually("in sync, the position saved at the peer's tail", () -> {
            assertEquals(PeerSync.IN_SYNC, sync().state());
            assertEquals(peer.tail(), saved());
        });
        assertEquals(7, sync().copiedVersions(), "every version copied once");
    }

    @Test
    void aPeersLogWrittenAnewIsReadFromItsStart() throws Exception {
        for (int i = 0; i < 4; i++) {
            peer.put("k" + i, 100 + i);
        }
        spawn(NO_ANTI_ENTROPY);
        eventually("following the first log at its tail", () -> assertEquals(peer.tail(), saved()));
        Position old = saved();

        // The peer found damaged records (k1's and k2's) and wrote its log anew; then two more versions came.
        peer.rewriteLog(List.of("k0", "k3"));
        peer.put("k4", 104);
        peer.put("k5", 105);
        Position rewritten = peer.tail();
        assertNotEquals(old.logId(), rewritten.logId());
        assertTrue(
                rewritten.offset() <= old.offset(), "the new log read from the old offset would say nothing of k4, k5");

        eventually("the versions added to the new log are here", () -> {
            assertTrue(holds("k4", 104));
            assertTrue(holds("k5", 105));
        });
        eventually("in sync, the position saved at the new log's tail", () -> {
            assertEquals(rewritten, saved());
            assertEquals(PeerSync.IN_SYNC, sync().state());
        });
        assertTrue(peer.logReads.contains(old), "the old position was asked for and answered from the new start");
        assertEquals(6, sync().copiedVersions(), "nothing read again is copied again");
    }

    @Test
    void aDeleteInThePeersLogRemovesTheVersionHereAndNoLaterCopyBringsItBack() throws Exception {
        peer.put("doomed", 10);
        peer.put("kept", 11);
        spawn(NO_ANTI_ENTROPY);
        eventually("both versions are here", () -> {
            assertTrue(holds("doomed", 10));
            assertTrue(holds("kept", 11));
        });

        peer.delete("doomed", 10);
        eventually(
                "the delete is applied",
                () -> assertTrue(here.isDeleted(new VersionId(RSID, Keys.utf8("doomed"), 10))));
        assertFalse(holds("doomed", 10), "the bytes are gone");

        // A late copy of the deleted version reaches the peer (a retried add with the same vtime): its log says PUT
        // again and it offers the bytes.
        peer.put("doomed", 10);
        Position after = peer.tail();
        eventually("the late record is applied", () -> assertEquals(after, saved()));
        assertEquals(2, peer.copyRequests.stream().filter("doomed@10"::equals).count(), "the copy was asked for");
        assertTrue(here.isDeleted(new VersionId(RSID, Keys.utf8("doomed"), 10)));
        assertFalse(holds("doomed", 10), "the tombstone wins over the copy");
        assertTrue(holds("kept", 11));
    }

    @Test
    void antiEntropyFindsWhatNoLogSaysThroughBucketDigestsAndALocalTombstoneWins() throws Exception {
        for (int i = 0; i < 5; i++) {
            peer.put("k" + i, 100 + i);
        }
        spawn(Duration.ofMillis(200));
        eventually("in sync", () -> assertEquals(peer.tail(), saved()));
        eventually(
                "the in-memory peer's digests are a real store's",
                () -> assertEquals(new Inventory(here, RSID).digests(), peer.digestsNow()));

        // Deleted here, while the peer missed the delete and still holds the bytes.
        here.delete(new VersionId(RSID, Keys.utf8("gone"), 21));
        peer.holdUnlogged("gone", 21);
        // Deleted on the peer, the record lost with its log.
        peer.deleteUnlogged("k1", 101);
        // Held by the peer, never logged.
        peer.holdUnlogged("gap", 20);
        eventually("the gap is copied and the peer's tombstone applied", () -> {
            assertTrue(holds("gap", 20));
            assertTrue(here.isDeleted(new VersionId(RSID, Keys.utf8("k1"), 101)));
        });
        long rounds = status.getAntiEntropyRounds();
        eventually("a later anti-entropy round is complete", () -> assertTrue(status.getAntiEntropyRounds() > rounds));

        assertTrue(here.isDeleted(new VersionId(RSID, Keys.utf8("gone"), 21)));
        assertFalse(holds("gone", 21), "the local tombstone wins");
        assertFalse(peer.copyRequests.contains("gone@21"), "a version deleted here is never asked for");
        assertFalse(holds("k1", 101));
        assertEquals(1, status.getAntiEntropyCopied());
        assertEquals(1, status.antiEntropyDeleted.get());
        assertEquals(peer.tail(), saved(), "the log position is untouched by anti-entropy");
    }

    // ---- helpers ----

    private void spawn(Duration antiEntropy) {
        kit.spawn(SetReplicator.create(
                RSID,
                SELF,
                view,
                here,
                peer,
                status,
                new SetReplicator.Settings(Duration.ofMillis(50), antiEntropy, 3, 4),
                Materializer.matFromSystem(kit.system()),
                executor));
    }

    private boolean holds(String key, long vtime) throws IOException {
        var found = here.find(new VersionId(RSID, Keys.utf8(key), vtime));
        if (found.isEmpty()) {
            return false;
        }
        StoredBlob blob = found.get();
        try (InputStream in = here.open(blob, 0, blob.size())) {
            assertEquals(new String(InMemoryPeer.bytesOf(key, vtime)), new String(in.readAllBytes()));
        }
        return true;
    }

    private Position saved() throws IOException {
        return new LogPositions(here.logDir()).load(RSID, PEER).orElse(null);
    }

    private PeerSync sync() {
        return status.get(RSID, PEER);
    }

    private interface Check {
        void run() throws Exception;
    }

    /** Waits for a condition with the test kit's probe, which retries the check until it passes or time is up. */
    private void eventually(String what, Check check) {
        probe.awaitAssert(PATIENCE, () -> {
            try {
                check.run();
            } catch (AssertionError | Exception e) {
                throw new AssertionError(what + ": " + e.getMessage(), e);
            }
            return null;
        });
    }
}
