package org.spreadosd.gw.http;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.StreamLimitReachedException;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.spreadosd.edge.ClientBufferBudget;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * What one HTTP request holds of the node's {@link ClientBufferBudget}: bytes of its body gathered in memory (a
 * urlencoded form, multipart fields, an attributes body, a small upload gathered whole), reserved as they arrive and
 * released together once the request is answered, whatever became of it. It travels with the request as an
 * attribute, so every reader of a body finds it without an extra parameter.
 */
final class RequestBuffers {
    private static final AttributeKey<RequestBuffers> KEY =
            AttributeKey.create("spreadosd-request-buffers", RequestBuffers.class);

    private final ClientBufferBudget budget;
    private final AtomicLong held = new AtomicLong();

    RequestBuffers(ClientBufferBudget budget) {
        this.budget = budget;
    }

    HttpRequest attachTo(HttpRequest request) {
        return request.addAttribute(KEY, this);
    }

    static RequestBuffers of(HttpRequest request) {
        return request.getAttribute(KEY)
                .orElseThrow(() -> new IllegalStateException("request without its buffer budget"));
    }

    /** Takes {@code bytes} from the node's budget for this request, or says false when they do not fit. */
    boolean tryReserve(long bytes) {
        if (!budget.tryReserve(bytes)) {
            return false;
        }
        held.addAndGet(bytes);
        return true;
    }

    /** As {@link #tryReserve}, refusing the request (503, naming the setting) when the budget is spent. */
    void reserve(long bytes) {
        if (!tryReserve(bytes)) {
            throw new SpreadFailure(FailureCode.UNAVAILABLE, budget.spentMessage(bytes));
        }
    }

    /** Gives back everything this request reserved; called once its answer is decided. */
    void releaseAll() {
        budget.release(held.getAndSet(0));
    }

    /**
     * The bytes of {@code data} in one piece, each chunk reserved before it is kept: at most {@code limit} of them
     * (beyond it {@code tooLarge}), and refused as soon as the node's budget is spent.
     */
    CompletionStage<ByteString> gather(
            Source<ByteString, ?> data, long limit, Supplier<SpreadFailure> tooLarge, Materializer mat) {
        return data.limitWeighted(limit, b -> (long) b.size())
                .map(chunk -> {
                    reserve(chunk.size());
                    return chunk;
                })
                .runFold(ByteString.emptyByteString(), ByteString::concat, mat)
                .exceptionally(e -> {
                    if (SpreadFailure.cause(e) instanceof StreamLimitReachedException) {
                        throw tooLarge.get();
                    }
                    throw SpreadFailure.unwrap(e);
                });
    }
}
