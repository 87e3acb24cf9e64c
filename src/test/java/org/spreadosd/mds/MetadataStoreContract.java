package org.spreadosd.mds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.Keys;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionClock;
import org.spreadosd.model.VersionRecord;

/** The behaviour every metadata store must have; run against H2 and a real PostgreSQL server. */
abstract class MetadataStoreContract {
    /** A settable clock: the tests decide what "now" is. */
    protected final AtomicLong nowSeconds = new AtomicLong(1_700_000_000L);

    protected MetadataStore mds;

    protected abstract String jdbcUrl() throws Exception;

    @BeforeEach
    void open() throws Exception {
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochSecond(nowSeconds.get());
            }
        };
        mds = new JdbcMetadataStore(jdbcUrl(), 8, new VersionClock(clock));
    }

    @AfterEach
    void close() {
        mds.close();
    }

    /** Keys unique per test run, so a shared PostgreSQL database does not leak state between tests. */
    protected byte[] key(String name) {
        return Keys.utf8(getClass().getSimpleName() + "/" + System.nanoTime() + "/" + name);
    }

    private VersionRecord add(byte[] key, String vname, Map<String, String> attrs) {
        ObjectKey okey = mds.reserve(key, () -> 3);
        return mds.commit(okey, vname == null ? null : Keys.utf8(vname), 10, 1234, "image/png", new Attributes(attrs));
    }

    @Test
    void headIsNewestCommittedVersion() {
        byte[] k = key("a");
        VersionRecord v1 = add(k, null, Map.of("n", "1"));
        VersionRecord v2 = add(k, null, Map.of("n", "2"));
        VersionRecord head = mds.find(k, Selector.HEAD).orElseThrow();
        assertEquals(v2.vtime(), head.vtime());
        assertEquals(Map.of("n", "2"), head.attrs().map());
        assertEquals("image/png", head.contentType());
        assertEquals(1234, head.crc32c());
        assertTrue(v2.vtime() > v1.vtime());
    }

    @Test
    void vtimeIsMaxOfNowAndNewestPlusOne() {
        byte[] k = key("t");
        long now = nowSeconds.get();
        assertEquals(now, add(k, null, Map.of()).vtime());
        assertEquals(now + 1, add(k, null, Map.of()).vtime(), "same second: newest + 1");
        assertEquals(now + 2, add(k, null, Map.of()).vtime());
        nowSeconds.addAndGet(100);
        assertEquals(now + 100, add(k, null, Map.of()).vtime(), "clock moved past newest: now");
    }

    @Test
    void aKeysVtimesAreNeverReusedAfterDeleteOrAbandon() {
        byte[] k = key("reuse");
        long seen = Long.MIN_VALUE;
        for (int round = 0; round < 5; round++) {
            VersionRecord added = add(k, null, Map.of());
            assertTrue(added.vtime() > seen, "round " + round + ": vtime " + added.vtime() + " reuses " + seen);
            seen = added.vtime();
            assertEquals(seen, mds.delete(k, Selector.HEAD).orElseThrow().vtime());
            ObjectKey abandoned = mds.reserve(k, () -> 3);
            assertTrue(abandoned.vtime() > seen, "a reservation after a delete reuses its vtime");
            seen = abandoned.vtime();
            mds.abandon(abandoned);
        }
        VersionRecord head = add(k, null, Map.of());
        assertTrue(head.vtime() > seen);
        ObjectKey mark = mds.remove(k).orElseThrow();
        assertTrue(mark.vtime() > head.vtime());
        assertEquals(
                head.vtime(),
                mds.delete(k, Selector.atTime(head.vtime())).orElseThrow().vtime());
        assertTrue(add(k, null, Map.of()).vtime() > mark.vtime(), "an add after a removal mark sits above it");
    }

    @Test
    void aKeyWithoutAHighWaterMarkContinuesAboveItsNewestRow() throws Exception {
        byte[] k = key("legacy");
        VersionRecord a = add(k, null, Map.of());
        // a database written before the mark existed has rows but no mark
        try (Connection c = DriverManager.getConnection(jdbcUrl());
                PreparedStatement ps = c.prepareStatement("DELETE FROM spread_key WHERE okey = ?")) {
            ps.setBytes(1, k);
            assertEquals(1, ps.executeUpdate());
        }
        assertEquals(a.vtime() + 1, add(k, null, Map.of()).vtime(), "a database from before the mark continues");
    }

    @Test
    void pendingReservationsAreInvisibleButTakeTheirVtime() {
        byte[] k = key("p");
        VersionRecord v1 = add(k, null, Map.of());
        ObjectKey pending = mds.reserve(k, () -> 9);
        assertEquals(v1.vtime() + 1, pending.vtime());
        assertEquals(v1.rsid(), pending.rsid(), "later versions inherit the rsid");
        assertEquals(v1.vtime(), mds.find(k, Selector.HEAD).orElseThrow().vtime());
        assertTrue(mds.find(k, Selector.atTime(pending.vtime()))
                .map(v -> v.vtime() == v1.vtime())
                .orElse(false));
        mds.abandon(pending);
        assertEquals(1, mds.versions(k).size());
    }

    @Test
    void staleReservationsAreListedForTheGarbageScan() {
        byte[] k = key("g");
        ObjectKey pending = mds.reserve(k, () -> 1);
        List<ObjectKey> stale = mds.stalePending(System.currentTimeMillis() + 1000, 1000);
        assertTrue(stale.contains(pending));
        mds.abandon(pending);
        assertFalse(mds.stalePending(System.currentTimeMillis() + 1000, 1000).contains(pending));
    }

    @Test
    void newKeyAsksPlacementLaterVersionsInherit() {
        byte[] k = key("r");
        ObjectKey first = mds.reserve(k, () -> 7);
        assertEquals(7, first.rsid());
        mds.commit(first, null, 0, 0, null, Attributes.EMPTY);
        ObjectKey second = mds.reserve(k, () -> {
            throw new AssertionError("placement must not be asked for an existing key");
        });
        assertEquals(7, second.rsid());
    }

    @Test
    void lookupByTimeAndByName() {
        byte[] k = key("v");
        VersionRecord a = add(k, "draft", Map.of("v", "a"));
        VersionRecord b = add(k, "final", Map.of("v", "b"));
        VersionRecord c = add(k, "draft", Map.of("v", "c"));
        assertEquals(
                a.vtime(), mds.find(k, Selector.atTime(a.vtime())).orElseThrow().vtime());
        assertEquals(
                b.vtime(),
                mds.find(k, Selector.atTime(c.vtime() - 1)).orElseThrow().vtime());
        assertEquals(
                c.vtime(),
                mds.find(k, Selector.atTime(Long.MAX_VALUE)).orElseThrow().vtime());
        assertTrue(mds.find(k, Selector.atTime(a.vtime() - 1)).isEmpty());
        assertEquals(
                c.vtime(),
                mds.find(k, Selector.named(Keys.utf8("draft"))).orElseThrow().vtime(),
                "newest with the name");
        assertEquals(
                b.vtime(),
                mds.find(k, Selector.named(Keys.utf8("final"))).orElseThrow().vtime());
        assertTrue(mds.find(k, Selector.named(Keys.utf8("none"))).isEmpty());
        assertArrayEquals(
                Keys.utf8("final"),
                mds.find(k, Selector.named(Keys.utf8("final"))).orElseThrow().vname());
    }

    @Test
    void removeMarksHeadButKeepsOlderVersions() {
        byte[] k = key("rm");
        VersionRecord a = add(k, "keep", Map.of());
        Optional<ObjectKey> mark = mds.remove(k);
        assertTrue(mark.isPresent());
        assertTrue(mark.get().vtime() > a.vtime());
        assertTrue(mds.find(k, Selector.HEAD).isEmpty(), "removed key reads as not found");
        assertTrue(
                mds.find(k, Selector.atTime(mark.get().vtime())).isEmpty(),
                "a removal mark found by time is not found");
        assertEquals(
                a.vtime(), mds.find(k, Selector.atTime(a.vtime())).orElseThrow().vtime());
        assertEquals(
                a.vtime(),
                mds.find(k, Selector.named(Keys.utf8("keep"))).orElseThrow().vtime());
        assertTrue(mds.remove(k).isEmpty(), "removing a removed key finds nothing");
        assertTrue(mds.remove(key("never")).isEmpty());
        assertTrue(mds.updateAttrs(k, Attributes.EMPTY).isEmpty(), "update_attrs of a removed key is not found");
        VersionRecord again = add(k, null, Map.of());
        assertEquals(again.vtime(), mds.find(k, Selector.HEAD).orElseThrow().vtime(), "an add after remove is visible");
        assertTrue(mds.versions(k).stream().anyMatch(v -> v.vtime() == a.vtime()), "older version still listed");
        assertTrue(mds.versions(k).stream().noneMatch(VersionRecord::removed), "removal marks are not versions");
    }

    @Test
    void deleteRemovesExactlyTheSelectedVersion() {
        byte[] k = key("del");
        VersionRecord a = add(k, "x", Map.of());
        VersionRecord b = add(k, "y", Map.of());
        VersionRecord c = add(k, null, Map.of());
        assertEquals(
                b.vtime(),
                mds.delete(k, Selector.named(Keys.utf8("y"))).orElseThrow().vtime());
        assertEquals(
                a.vtime(),
                mds.find(k, Selector.atTime(b.vtime())).orElseThrow().vtime(),
                "by time falls back to older");
        assertEquals(c.vtime(), mds.delete(k, Selector.HEAD).orElseThrow().vtime());
        assertEquals(a.vtime(), mds.find(k, Selector.HEAD).orElseThrow().vtime(), "the next newest becomes head");
        assertEquals(
                a.vtime(),
                mds.delete(k, Selector.atTime(a.vtime())).orElseThrow().vtime());
        assertTrue(mds.delete(k, Selector.HEAD).isEmpty());
        assertTrue(mds.versions(k).isEmpty());
    }

    @Test
    void updateAttrsReplacesNewestInPlace() {
        byte[] k = key("ua");
        VersionRecord a = add(k, null, Map.of("old", "1"));
        ObjectKey updated =
                mds.updateAttrs(k, new Attributes(Map.of("new", "2"))).orElseThrow();
        assertEquals(a.vtime(), updated.vtime(), "no new version");
        assertEquals(
                Map.of("new", "2"),
                mds.find(k, Selector.HEAD).orElseThrow().attrs().map());
        assertEquals(1, mds.versions(k).size());
        assertTrue(mds.updateAttrs(key("missing"), Attributes.EMPTY).isEmpty());
    }

    @Test
    void arbitraryByteKeysAreDistinct() {
        byte[] nul = {0, 1, 2, (byte) 0xff};
        byte[] traversal = Keys.utf8("../../etc/passwd");
        byte[] longKey = new byte[1024];
        Arrays.fill(longKey, (byte) 'k');
        byte[] prefix = key("");
        for (byte[] raw : List.of(nul, traversal, longKey)) {
            byte[] k = new byte[prefix.length + raw.length];
            System.arraycopy(prefix, 0, k, 0, prefix.length);
            System.arraycopy(raw, 0, k, prefix.length, raw.length);
            add(k, null, Map.of("len", Integer.toString(raw.length)));
            VersionRecord found = mds.find(k, Selector.HEAD).orElseThrow();
            assertArrayEquals(k, found.key());
            assertEquals(Integer.toString(raw.length), found.attrs().get("len"));
        }
    }

    @Test
    void lookupsAreIndexProbes() throws Exception {
        byte[] k = key("idx");
        for (int i = 0; i < 300; i++) {
            byte[] other = key("filler" + i);
            add(other, "n" + (i % 7), Map.of());
        }
        add(k, "n", Map.of());
        String url = jdbcUrl();
        try (Connection c = DriverManager.getConnection(url)) {
            if (url.startsWith("jdbc:postgresql:")) {
                try (Statement st = c.createStatement()) {
                    st.execute("ANALYZE spread_version");
                }
            }
            String head = plan(
                    c,
                    "SELECT vtime FROM spread_version WHERE okey = ? AND pending = FALSE ORDER BY vtime DESC LIMIT 1",
                    k,
                    null);
            String byName = plan(
                    c,
                    "SELECT vtime FROM spread_version WHERE okey = ? AND vname = ? AND pending = FALSE"
                            + " ORDER BY vtime DESC LIMIT 1",
                    k,
                    Keys.utf8("n"));
            assertTrue(head.toLowerCase().contains("primary_key") || head.contains("spread_version_pkey"), head);
            assertTrue(
                    byName.contains("SPREAD_VERSION_BY_VNAME") || byName.contains("spread_version_by_vname"), byName);
            assertFalse(head.contains("Seq Scan") || byName.contains("Seq Scan"), head + byName);
        }
    }

    private static String plan(Connection c, String sql, byte[] key, byte[] vname) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
            ps.setBytes(1, key);
            if (vname != null) {
                ps.setBytes(2, vname);
            }
            StringBuilder out = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.append(rs.getString(1)).append('\n');
                }
            }
            return out.toString();
        }
    }

    @Test
    void concurrentAddsToOneKeyGetDistinctVtimes() throws Exception {
        byte[] k = key("race");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ObjectKey>> futures = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                futures.add(pool.submit(() -> {
                    ObjectKey r = mds.reserve(k, () -> 1);
                    mds.commit(r, null, 0, 0, null, Attributes.EMPTY);
                    return r;
                }));
            }
            Set<Long> vtimes = ConcurrentHashMap.newKeySet();
            for (Future<ObjectKey> f : futures) {
                assertTrue(vtimes.add(f.get().vtime()), "duplicate vtime");
            }
            assertEquals(40, mds.versions(k).size());
        } finally {
            pool.shutdownNow();
        }
    }
}
