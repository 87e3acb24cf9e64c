package org.spreadosd.server;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.spreadosd.failure.SpreadFailure;

/** Helpers of start-up steps: a deadline that fails with the operator's one line, and the cause behind wrappers. */
final class Startup {
    private Startup() {}

    /** {@code step}, failed with {@code onTimeout}'s StartupException when it takes longer than {@code limit}. */
    static <T> CompletionStage<T> within(CompletionStage<T> step, Duration limit, Supplier<String> onTimeout) {
        return step.toCompletableFuture()
                .copy()
                .orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS)
                .handle((value, error) -> {
                    if (error == null) {
                        return value;
                    }
                    Throwable cause = SpreadFailure.cause(error);
                    if (cause instanceof TimeoutException) {
                        throw new StartupException(onTimeout.get());
                    }
                    throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
                });
    }

    /** A step that failed: its StartupException, or one that says what failed. */
    static StartupException failure(Throwable error, String doing) {
        Throwable cause = SpreadFailure.cause(error);
        return cause instanceof StartupException s ? s : new StartupException(doing + ": " + rootMessage(cause), cause);
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    static <T> CompletionStage<T> failed(Throwable e) {
        return CompletableFuture.failedFuture(e);
    }
}
