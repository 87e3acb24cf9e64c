package org.spreadosd.ds;

/**
 * A data server could not do what was asked. {@code status} is the HTTP status a client should see
 * (413 too large, 507 store full, 503 unreachable).
 */
public class DataServerException extends RuntimeException {
    private final int status;
    private final boolean peerLost;

    public DataServerException(int status, String message) {
        this(status, message, false);
    }

    private DataServerException(int status, String message, boolean peerLost) {
        super(message, null, false, false);
        this.status = status;
        this.peerLost = peerLost;
    }

    /** The data server could not be reached, dropped the connection or did not answer in time. */
    public static DataServerException unreachable(String message) {
        return new DataServerException(503, message, true);
    }

    /**
     * Whether the failure lay in reaching the data server rather than in its answer: the request may or may not
     * have taken effect there, and the set's next member is worth a try.
     */
    public boolean peerLost() {
        return peerLost;
    }

    public int status() {
        return status;
    }
}
