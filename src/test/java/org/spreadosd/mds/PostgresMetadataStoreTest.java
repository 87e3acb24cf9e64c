package org.spreadosd.mds;

import org.spreadosd.testing.PostgresServer;

/** The same contract on a real PostgreSQL server (started by the test; required in CI). */
class PostgresMetadataStoreTest extends MetadataStoreContract {
    @Override
    protected String jdbcUrl() {
        return PostgresServer.requireJdbcUrl();
    }
}
