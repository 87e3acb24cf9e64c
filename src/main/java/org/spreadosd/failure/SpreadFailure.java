package org.spreadosd.failure;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/**
 * The one failure type of a request, in every layer: a {@link FailureCode} that says what a client gets (HTTP status,
 * RPC error string) and what the server does about it, and a message that names what failed. {@link #unwrap} turns
 * whatever a future failed with into one, in this one place.
 *
 * <p>It is unchecked, also where the data store's methods declare {@code IOException}: there a {@code SpreadFailure}
 * says something about the version ({@link FailureCode#CORRUPT}, {@link FailureCode#ALREADY_STORED},
 * {@link FailureCode#DELETED}, {@link FailureCode#TOO_LARGE}), an {@code IOException} that the disk or a stream
 * failed. Callers that recover from a damaged copy catch it by its code; every {@code catch (IOException)} that wraps
 * and rethrows lets it pass unchanged, so no wrapper hides the code. A checked subclass of IOException was not needed:
 * no I/O API the store implements requires its failures to be checked ({@code InputStream.read} may throw it too).
 *
 * <p>It carries no stack trace: an expected failure is logged in one line, if at all. An {@link FailureCode#INTERNAL}
 * failure keeps the throwable nobody expected as its cause, for the one log line with a stack trace.
 */
public final class SpreadFailure extends RuntimeException {
    private final FailureCode code;

    public SpreadFailure(FailureCode code, String message) {
        this(code, message, null);
    }

    public SpreadFailure(FailureCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = code;
    }

    public FailureCode code() {
        return code;
    }

    public int httpStatus() {
        return code.httpStatus();
    }

    /** The error string of an RPC answer {@code [1, msgid, error, nil]}. */
    public String rpcError() {
        return getMessage();
    }

    /** This failure as a gateway's client sees it when a data server failed with it (see {@link FailureCode#acrossLink}). */
    public SpreadFailure acrossLink(String prefix) {
        return new SpreadFailure(code.acrossLink(), prefix + getMessage());
    }

    /** Whether {@code e}, under its wrappers, is a failure with {@code code}. */
    public static boolean is(Throwable e, FailureCode code) {
        return cause(e) instanceof SpreadFailure f && f.code == code;
    }

    /**
     * The failure under the wrappers of futures and streams ({@link CompletionException}, {@link ExecutionException},
     * {@link UncheckedIOException}), as a {@code SpreadFailure}: itself when it is one; a full disk, a broken disk or
     * stream, a body over Pekko HTTP's size limit or a body the client cut short by their codes; anything else
     * {@link FailureCode#INTERNAL}, with the throwable as its cause.
     */
    public static SpreadFailure unwrap(Throwable e) {
        Throwable cause = cause(e);
        if (cause instanceof SpreadFailure f) {
            return f;
        }
        if (cause instanceof IOException io) {
            return String.valueOf(io.getMessage()).contains("No space left")
                    ? new SpreadFailure(FailureCode.STORE_FULL, "store full: " + io.getMessage(), io)
                    : new SpreadFailure(FailureCode.UNAVAILABLE, describe(io), io);
        }
        if (cause instanceof EntityStreamSizeException) {
            return new SpreadFailure(FailureCode.TOO_LARGE, cause.getMessage(), cause);
        }
        if (cause instanceof EntityStreamException) {
            // the client's body was cut short or its chunked encoding broken: the client's fault
            return new SpreadFailure(FailureCode.CLIENT_ABORTED, cause.getMessage(), cause);
        }
        return new SpreadFailure(FailureCode.INTERNAL, "internal error: " + cause, cause);
    }

    /** The throwable under the wrappers of futures and streams, whatever it is. */
    public static Throwable cause(Throwable e) {
        while ((e instanceof CompletionException
                        || e instanceof ExecutionException
                        || e instanceof UncheckedIOException)
                && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    /** A failure in words; many exceptions (EOFException, ClosedChannelException, ...) carry no message. */
    public static String describe(Throwable e) {
        Throwable cause = cause(e);
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
