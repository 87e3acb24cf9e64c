package org.spreadosd.ds;

/**
 * A data server could not do what was asked. {@code status} is the HTTP status a client should see
 * (413 too large, 507 store full, 503 unreachable).
 */
public class DataServerException extends RuntimeException {
    private final int status;

    public DataServerException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
