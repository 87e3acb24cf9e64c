package org.spreadosd.bench;

import java.io.IOException;

/** One request that did not succeed, said in one line that names the request: "GET bench/x/7: HTTP 404 ...". */
final class OperationFailed extends IOException {
    OperationFailed(String operation, String reason) {
        super(operation + ": " + reason);
    }

    OperationFailed(String operation, Throwable cause) {
        super(operation + ": " + reason(cause), cause);
    }

    /** The first message in the cause chain: the JDK's connect failures often carry theirs a level down. */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage().replaceAll("\\s+", " ").strip();
            }
        }
        return e.getClass().getSimpleName();
    }
}
