package org.spreadosd.bench;

import java.io.IOException;
import java.net.ConnectException;

/** One request that did not succeed, said in one line that names the request: "GET bench/x/7: HTTP 404 ...". */
final class OperationFailed extends IOException {
    OperationFailed(String operation, String reason) {
        super(operation + ": " + reason);
    }

    OperationFailed(String operation, Throwable cause) {
        super(operation + ": " + reason(cause), cause);
    }

    /** A request's work, any of whose failures is the request's. */
    interface Request {
        void run() throws IOException;
    }

    /** Runs {@code request}; whatever fails in it fails as {@code operation}. */
    static void as(String operation, Request request) throws OperationFailed {
        try {
            request.run();
        } catch (OperationFailed e) {
            throw e;
        } catch (IOException e) {
            throw new OperationFailed(operation, e);
        }
    }

    /** The first message in the cause chain: the JDK's connect failures often carry theirs a level down. */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage().replaceAll("\\s+", " ").strip();
            }
        }
        // java.net.http reports a refused connection as a ConnectException without any message
        return e instanceof ConnectException
                ? "cannot connect (ConnectException)"
                : e.getClass().getSimpleName();
    }
}
