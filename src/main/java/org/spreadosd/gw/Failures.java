package org.spreadosd.gw;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.spreadosd.ds.DataServerException;
import org.spreadosd.mds.MetadataStoreException;
import org.spreadosd.model.Limits;

/**
 * What went wrong with a request, for every front-end (HTTP, MessagePack-RPC): the failure under the
 * future's wrappers, and the status an expected failure maps to.
 */
public final class Failures {
    private Failures() {}

    /** The failure itself, without the CompletionException and ExecutionException around it. */
    public static Throwable cause(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /**
     * The HTTP status of an expected failure (bad request, read-only, unavailable store or replica,
     * too large), or -1 for a failure nobody expected: a bug, to be logged with its stack trace.
     */
    public static int status(Throwable cause) {
        if (cause instanceof GatewayException g) {
            return g.status();
        }
        if (cause instanceof Limits.Exceeded) {
            return 400;
        }
        if (cause instanceof DataServerException d) {
            return d.status();
        }
        if (cause instanceof MetadataStoreException) {
            return 503;
        }
        if (cause instanceof EntityStreamSizeException) {
            return 413;
        }
        if (cause instanceof EntityStreamException) {
            // the client's body was cut short or its chunked encoding broken: the client's fault
            return 400;
        }
        return -1;
    }
}
