package org.spreadosd.server;

/** A server cannot start; the message tells the operator why (port in use, store not writable, ...). */
public class StartupException extends RuntimeException {
    public StartupException(String message) {
        super(message, null, false, false);
    }

    public StartupException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
