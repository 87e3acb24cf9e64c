package org.spreadosd.mds;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Limits;

/**
 * The one metadata schema, created on first start.
 *
 * <p>The primary key (okey, vtime) makes the head and by-time look-ups one backward probe of one
 * index; (okey, vname, vtime) does the same for look-ups by name. {@code spread_key} holds each key's
 * highest vtime ever claimed, which outlives the rows that deletes and abandoned adds remove. Column sizes are
 * the ceilings of {@link Limits}, which the gateway checks before a row is written.
 */
final class MdsSchema {
    static final int MAX_KEY_BYTES = Limits.KEY_BYTES_CEILING;
    static final int MAX_VNAME_BYTES = Limits.VNAME_BYTES_CEILING;
    static final int MAX_ATTRS_BYTES = Limits.ATTRS_BYTES_CEILING;
    static final int MAX_CONTENT_TYPE_BYTES = Limits.CONTENT_TYPE_BYTES_CEILING;

    private MdsSchema() {}

    static void create(DataSource ds, SqlDialect dialect) {
        String[] ddl = {
            "CREATE TABLE IF NOT EXISTS spread_version ("
                    + " okey " + dialect.binary(MAX_KEY_BYTES) + " NOT NULL,"
                    + " vtime BIGINT NOT NULL,"
                    + " rsid INTEGER NOT NULL,"
                    + " vname " + dialect.binary(MAX_VNAME_BYTES) + ","
                    + " removed BOOLEAN NOT NULL,"
                    + " pending BOOLEAN NOT NULL,"
                    + " size BIGINT NOT NULL,"
                    + " crc32c INTEGER NOT NULL,"
                    + " content_type VARCHAR(" + MAX_CONTENT_TYPE_BYTES + "),"
                    + " attrs " + dialect.binary(MAX_ATTRS_BYTES) + ","
                    + " created_ms BIGINT NOT NULL,"
                    + " PRIMARY KEY (okey, vtime))",
            // A key's vtime high-water mark: every vtime the key ever had, deleted and abandoned ones included, lies
            // at or below it, so a new version never takes the name of one whose tombstone a data server keeps.
            "CREATE TABLE IF NOT EXISTS spread_key ("
                    + " okey " + dialect.binary(MAX_KEY_BYTES) + " NOT NULL,"
                    + " last_vtime BIGINT NOT NULL,"
                    + " PRIMARY KEY (okey))",
            "CREATE INDEX IF NOT EXISTS spread_version_by_vname ON spread_version (okey, vname, vtime)",
            "CREATE INDEX IF NOT EXISTS spread_version_pending ON spread_version (pending, created_ms)",
        };
        try (Connection c = ds.getConnection();
                Statement st = c.createStatement()) {
            for (String sql : ddl) {
                st.execute(sql);
            }
        } catch (SQLException e) {
            throw new SpreadFailure(
                    FailureCode.MDS_UNAVAILABLE, "cannot create the metadata schema: " + e.getMessage(), e);
        }
    }
}
