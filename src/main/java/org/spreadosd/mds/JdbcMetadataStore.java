package org.spreadosd.mds;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionClock;
import org.spreadosd.model.VersionRecord;
import org.spreadosd.util.DiskReserve;
import org.spreadosd.util.GroupSync;

/** The metadata store over JDBC: the same SQL on embedded H2 and on PostgreSQL. */
public final class JdbcMetadataStore implements MetadataStore {
    private static final Logger log = LoggerFactory.getLogger(JdbcMetadataStore.class);
    private static final String UNIQUE_VIOLATION = "23505";
    private static final int MAX_RESERVE_ATTEMPTS = 1000;
    private static final String COLUMNS = "okey, vtime, rsid, vname, removed, size, crc32c, content_type, attrs";

    private final HikariDataSource pool;
    private final String jdbcUrl;
    private final VersionClock clock;
    /**
     * H2 writes a commit to its file but never fsyncs it, so an acknowledged change could vanish with the
     * machine's power: on H2 every change a client is told of waits for a CHECKPOINT SYNC, shared by all
     * the changes made meanwhile. PostgreSQL fsyncs its WAL at commit itself (null here).
     */
    private final GroupSync durable;
    /** The embedded database's disk, watched for its reserve; null for a served database or without a reserve. */
    private final DiskReserve disk;
    /** When a failure closed the database (0: open), so that its closing and its return are logged once each. */
    private final AtomicLong databaseClosedSince = new AtomicLong();

    public JdbcMetadataStore(String jdbcUrl, int poolSize, VersionClock clock) {
        this(jdbcUrl, poolSize, clock, 0);
    }

    /**
     * @param freeSpaceReserve for an embedded H2 database: new versions are refused (no vtime reserved) while less
     *     than this is free on its disk, so that clients adding to a full node do not spend, with the reservations
     *     that are refused and abandoned, the room its deletes need
     */
    public JdbcMetadataStore(String jdbcUrl, int poolSize, VersionClock clock, long freeSpaceReserve) {
        this.jdbcUrl = jdbcUrl;
        this.disk = freeSpaceReserve > 0
                ? MdsUri.embeddedH2Directory(jdbcUrl)
                        .map(dir -> new DiskReserve("the metadata store's disk", dir, freeSpaceReserve))
                        .orElse(null)
                : null;
        this.clock = clock;
        SqlDialect dialect = SqlDialect.of(jdbcUrl);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setMaximumPoolSize(poolSize);
        hc.setPoolName("mds");
        hc.setConnectionTimeout(5_000);
        hc.setInitializationFailTimeout(-1);
        hc.setExceptionOverride(new DeadConnections());
        this.pool = new HikariDataSource(hc);
        this.durable = dialect == SqlDialect.H2 ? new GroupSync(this::checkpointSync) : null;
        try {
            MdsSchema.create(pool, dialect);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        log.info("metadata store open: {}", describe());
    }

    @Override
    public ObjectKey reserve(byte[] key, IntSupplier placement) {
        refuseWhenDiskLow();
        for (int attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
            ObjectKey claimed = inTx(c -> {
                long vtime = claimVtime(c, key);
                Integer rsid = newestRsid(c, key);
                ObjectKey candidate = new ObjectKey(key, vtime, rsid != null ? rsid : placement.getAsInt());
                try {
                    executeUpdate(
                            c,
                            "INSERT INTO spread_version (okey, vtime, rsid, removed, pending, size, crc32c, created_ms)"
                                    + " VALUES (?, ?, ?, FALSE, TRUE, 0, 0, ?)",
                            ps -> {
                                ps.setBytes(1, key);
                                ps.setLong(2, candidate.vtime());
                                ps.setInt(3, candidate.rsid());
                                ps.setLong(4, System.currentTimeMillis());
                            });
                    return candidate;
                } catch (DuplicateVersion raced) {
                    // a row from before the high-water mark existed holds this vtime: claim the next one
                    return null;
                }
            });
            if (claimed != null) {
                return claimed;
            }
        }
        throw new SpreadFailure(
                FailureCode.MDS_UNAVAILABLE, "could not claim a vtime after " + MAX_RESERVE_ATTEMPTS + " attempts");
    }

    /**
     * Raises the key's high-water mark to {@code max(now, mark + 1)} and answers the new mark. A compare-and-set on
     * the mark row, not a lock, keeps claims unique across gateways on both databases: of two claims that read the
     * same mark only one update matches, and the other reads again. A key from a database older than the mark
     * starts from its newest remaining row.
     */
    private long claimVtime(Connection c, byte[] key) throws SQLException {
        for (int attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
            Long mark = selectLong(c, "SELECT last_vtime FROM spread_key WHERE okey = ?", key);
            if (mark == null) {
                long first = clock.next(selectLong(c, "SELECT MAX(vtime) FROM spread_version WHERE okey = ?", key));
                try {
                    executeUpdate(c, "INSERT INTO spread_key (okey, last_vtime) VALUES (?, ?)", ps -> {
                        ps.setBytes(1, key);
                        ps.setLong(2, first);
                    });
                    return first;
                } catch (DuplicateVersion raced) {
                    continue;
                }
            }
            long next = clock.next(mark);
            int updated =
                    executeUpdate(c, "UPDATE spread_key SET last_vtime = ? WHERE okey = ? AND last_vtime = ?", ps -> {
                        ps.setLong(1, next);
                        ps.setBytes(2, key);
                        ps.setLong(3, mark);
                    });
            if (updated == 1) {
                return next;
            }
        }
        throw new SpreadFailure(
                FailureCode.MDS_UNAVAILABLE,
                "could not raise the vtime mark after " + MAX_RESERVE_ATTEMPTS + " attempts");
    }

    /** The rsid of the key's newest row: every version of a key lives on the set its first version was placed on. */
    private static Integer newestRsid(Connection c, byte[] key) throws SQLException {
        Long rsid = firstLong(
                c,
                "SELECT rsid FROM spread_version WHERE okey = ? ORDER BY vtime DESC LIMIT 1",
                ps -> ps.setBytes(1, key));
        return rsid == null ? null : rsid.intValue();
    }

    private static Long selectLong(Connection c, String sql, byte[] key) throws SQLException {
        return firstLong(c, sql, ps -> ps.setBytes(1, key));
    }

    /** The first column of the first row as a number; null when there is no row or the value is NULL. */
    private static Long firstLong(Connection c, String sql, Binder binder) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    @Override
    public VersionRecord commit(
            ObjectKey reserved, byte[] vname, long size, int crc32c, String contentType, Attributes attrs) {
        int updated = update(
                "UPDATE spread_version SET pending = FALSE, vname = ?, size = ?, crc32c = ?, content_type = ?, attrs = ?"
                        + " WHERE okey = ? AND vtime = ? AND pending = TRUE",
                ps -> {
                    setNullableBytes(ps, 1, vname);
                    ps.setLong(2, size);
                    ps.setInt(3, crc32c);
                    ps.setString(4, contentType);
                    ps.setBytes(5, attrs.toMsgpack());
                    ps.setBytes(6, reserved.key());
                    ps.setLong(7, reserved.vtime());
                });
        if (updated != 1) {
            throw new SpreadFailure(FailureCode.MDS_UNAVAILABLE, "reservation " + reserved + " vanished before commit");
        }
        makeDurable();
        return new VersionRecord(
                reserved.key(), reserved.vtime(), reserved.rsid(), vname, false, size, crc32c, contentType, attrs);
    }

    @Override
    public void abandon(ObjectKey reserved) {
        update("DELETE FROM spread_version WHERE okey = ? AND vtime = ? AND pending = TRUE", ps -> {
            ps.setBytes(1, reserved.key());
            ps.setLong(2, reserved.vtime());
        });
        // The abandoned vtime's bytes become a tombstone next; the mark above it must not be lost with the power.
        makeDurable();
    }

    @Override
    public Optional<VersionRecord> find(byte[] key, Selector selector) {
        Optional<VersionRecord> found;
        if (selector instanceof Selector.AtTime t) {
            found = queryOne(
                    "SELECT " + COLUMNS + " FROM spread_version"
                            + " WHERE okey = ? AND vtime <= ? AND pending = FALSE ORDER BY vtime DESC LIMIT 1",
                    ps -> {
                        ps.setBytes(1, key);
                        ps.setLong(2, t.vtime());
                    });
        } else if (selector instanceof Selector.Named n) {
            found = queryOne(
                    "SELECT " + COLUMNS + " FROM spread_version"
                            + " WHERE okey = ? AND vname = ? AND pending = FALSE ORDER BY vtime DESC LIMIT 1",
                    ps -> {
                        ps.setBytes(1, key);
                        ps.setBytes(2, n.vname());
                    });
        } else {
            found = queryOne(
                    "SELECT " + COLUMNS + " FROM spread_version"
                            + " WHERE okey = ? AND pending = FALSE ORDER BY vtime DESC LIMIT 1",
                    ps -> ps.setBytes(1, key));
        }
        return found.filter(v -> !v.removed());
    }

    @Override
    public Optional<ObjectKey> updateAttrs(byte[] key, Attributes attrs) {
        for (int attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
            Optional<VersionRecord> head = find(key, Selector.HEAD);
            if (head.isEmpty()) {
                return Optional.empty();
            }
            VersionRecord v = head.get();
            int updated = update(
                    "UPDATE spread_version SET attrs = ? WHERE okey = ? AND vtime = ? AND pending = FALSE", ps -> {
                        ps.setBytes(1, attrs.toMsgpack());
                        ps.setBytes(2, key);
                        ps.setLong(3, v.vtime());
                    });
            if (updated == 1) {
                makeDurable();
                return Optional.of(v.objectKey());
            }
        }
        throw new SpreadFailure(FailureCode.MDS_UNAVAILABLE, "update_attrs kept racing with deletes");
    }

    @Override
    public Optional<ObjectKey> remove(byte[] key) {
        for (int attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
            Optional<VersionRecord> head = find(key, Selector.HEAD);
            if (head.isEmpty()) {
                return Optional.empty();
            }
            long vtime = inTx(c -> claimVtime(c, key));
            ObjectKey mark = new ObjectKey(key, vtime, head.get().rsid());
            try {
                execute(
                        "INSERT INTO spread_version (okey, vtime, rsid, removed, pending, size, crc32c, created_ms)"
                                + " VALUES (?, ?, ?, TRUE, FALSE, 0, 0, ?)",
                        ps -> {
                            ps.setBytes(1, key);
                            ps.setLong(2, mark.vtime());
                            ps.setInt(3, mark.rsid());
                            ps.setLong(4, System.currentTimeMillis());
                        });
                makeDurable();
                return Optional.of(mark);
            } catch (DuplicateVersion raced) {
                // an add claimed this vtime first: look at the new head again
            }
        }
        throw new SpreadFailure(FailureCode.MDS_UNAVAILABLE, "remove kept racing with adds");
    }

    @Override
    public Optional<VersionRecord> delete(byte[] key, Selector selector) {
        for (int attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
            Optional<VersionRecord> target = find(key, selector);
            if (target.isEmpty()) {
                return target;
            }
            int deleted = update("DELETE FROM spread_version WHERE okey = ? AND vtime = ? AND pending = FALSE", ps -> {
                ps.setBytes(1, key);
                ps.setLong(2, target.get().vtime());
            });
            if (deleted == 1) {
                makeDurable();
                return target;
            }
        }
        throw new SpreadFailure(FailureCode.MDS_UNAVAILABLE, "delete kept racing with other deletes");
    }

    @Override
    public List<VersionRecord> versions(byte[] key) {
        return query(
                "SELECT " + COLUMNS + " FROM spread_version WHERE okey = ? AND pending = FALSE AND removed = FALSE"
                        + " ORDER BY vtime DESC",
                ps -> ps.setBytes(1, key),
                JdbcMetadataStore::toRecord);
    }

    @Override
    public List<ObjectKey> stalePending(long createdBeforeMillis, int limit) {
        return query(
                "SELECT okey, vtime, rsid FROM spread_version WHERE pending = TRUE AND created_ms < ?"
                        + " ORDER BY created_ms LIMIT " + limit,
                ps -> ps.setLong(1, createdBeforeMillis),
                rs -> new ObjectKey(rs.getBytes(1), rs.getLong(2), rs.getInt(3)));
    }

    @Override
    public boolean knows(byte[] key, long vtime) {
        Long n = queryLong("SELECT COUNT(*) FROM spread_version WHERE okey = ? AND vtime = ?", ps -> {
            ps.setBytes(1, key);
            ps.setLong(2, vtime);
        });
        return n != null && n > 0;
    }

    @Override
    public long countVersions() {
        Long n = queryLong("SELECT COUNT(*) FROM spread_version WHERE pending = FALSE", ps -> {});
        return n == null ? 0 : n;
    }

    @Override
    public String describe() {
        return MdsUri.redact(jdbcUrl);
    }

    @Override
    public void close() {
        pool.close();
    }

    private static VersionRecord toRecord(ResultSet rs) throws SQLException {
        byte[] attrs = rs.getBytes(9);
        return new VersionRecord(
                rs.getBytes(1),
                rs.getLong(2),
                rs.getInt(3),
                rs.getBytes(4),
                rs.getBoolean(5),
                rs.getLong(6),
                rs.getInt(7),
                rs.getString(8),
                attrs == null ? Attributes.EMPTY : Attributes.fromMsgpack(attrs));
    }

    private static void setNullableBytes(PreparedStatement ps, int index, byte[] value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.VARBINARY);
        } else {
            ps.setBytes(index, value);
        }
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private interface TxBody<T> {
        T run(Connection c) throws SQLException;
    }

    /** Thrown when an insert hits an existing (key, vtime): a race the callers resolve by retrying. */
    private static final class DuplicateVersion extends RuntimeException {
        DuplicateVersion() {
            super(null, null, false, false);
        }
    }

    private void refuseWhenDiskLow() {
        if (disk == null) {
            return;
        }
        try {
            disk.refuseAddsWhenLow();
        } catch (IOException e) {
            // free space that cannot be read refuses nothing: the database itself says whether it can write
        }
    }

    /** Returns once every change committed so far is on disk (see {@link #durable}). */
    private void makeDurable() {
        if (durable == null) {
            return;
        }
        try {
            durable.await();
        } catch (SQLException e) {
            throw failure(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SpreadFailure(
                    FailureCode.MDS_UNAVAILABLE, "interrupted while waiting for the metadata store to sync", e);
        } catch (Exception e) {
            throw new SpreadFailure(FailureCode.MDS_UNAVAILABLE, "metadata store sync failed: " + e, e);
        }
    }

    private void checkpointSync() throws SQLException {
        try (Connection c = pool.getConnection();
                Statement st = c.createStatement()) {
            st.execute("CHECKPOINT SYNC");
        }
    }

    private <T> T inTx(TxBody<T> body) {
        try (Connection c = pool.getConnection()) {
            T result = body.run(c);
            long closedSince = databaseClosedSince.get();
            if (closedSince != 0 && databaseClosedSince.compareAndSet(closedSince, 0)) {
                log.info(
                        "metadata store {} open again after {} ms",
                        describe(),
                        System.currentTimeMillis() - closedSince);
            }
            return result;
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    private void execute(String sql, Binder binder) {
        update(sql, binder);
    }

    private int update(String sql, Binder binder) {
        return inTx(c -> executeUpdate(c, sql, binder));
    }

    /** @throws DuplicateVersion when the statement hits an existing (key, vtime) */
    private static int executeUpdate(Connection c, String sql, Binder binder) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            return ps.executeUpdate();
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new DuplicateVersion();
            }
            throw e;
        }
    }

    private <T> List<T> query(String sql, Binder binder, RowMapper<T> mapper) {
        return inTx(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    List<T> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(mapper.map(rs));
                    }
                    return out;
                }
            }
        });
    }

    private Optional<VersionRecord> queryOne(String sql, Binder binder) {
        return query(sql, binder, JdbcMetadataStore::toRecord).stream().findFirst();
    }

    private Long queryLong(String sql, Binder binder) {
        return inTx(c -> firstLong(c, sql, binder));
    }

    private SpreadFailure failure(SQLException e) {
        if (DeadConnections.diedWithDatabase(e)) {
            // the pool evicts the connection that saw it; the others died with the database too
            pool.getHikariPoolMXBean().softEvictConnections();
            if (databaseClosedSince.compareAndSet(0, System.currentTimeMillis())) {
                log.warn(
                        "metadata store {} closed under the node ({}): reopening it with new connections",
                        describe(),
                        e.getMessage());
            }
        }
        return new SpreadFailure(FailureCode.MDS_UNAVAILABLE, "metadata store unavailable: " + e.getMessage(), e);
    }
}
