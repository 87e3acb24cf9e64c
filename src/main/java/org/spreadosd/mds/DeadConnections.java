package org.spreadosd.mds;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * Tells the pool which connections died with their database. An embedded H2 database closes itself for good when
 * a write fails (a full disk: ENOSPC), yet its connections still call themselves valid, so the pool would hand
 * them out forever and every request would answer "The database has been closed". Evicted, they are replaced by
 * new connections, which open the database again (H2 recovers it from its file) as soon as it can be opened.
 */
final class DeadConnections implements SQLExceptionOverride {
    /** H2's ErrorCode.DATABASE_IS_CLOSED and DATABASE_CALLED_AT_SHUTDOWN. */
    private static final int DATABASE_IS_CLOSED = 90098;

    private static final int DATABASE_CALLED_AT_SHUTDOWN = 90121;
    /** H2's ErrorCode.GENERAL_ERROR_1, which carries the storage failure that closes the database. */
    private static final int GENERAL_ERROR = 50000;

    static boolean diedWithDatabase(SQLException e) {
        return e.getErrorCode() == DATABASE_IS_CLOSED
                || e.getErrorCode() == DATABASE_CALLED_AT_SHUTDOWN
                || (e.getErrorCode() == GENERAL_ERROR
                        && String.valueOf(e.getMessage()).contains("MVStoreException"));
    }

    @java.lang.Override
    public Override adjudicate(SQLException e) {
        return diedWithDatabase(e) ? Override.MUST_EVICT : Override.CONTINUE_EVICT;
    }
}
