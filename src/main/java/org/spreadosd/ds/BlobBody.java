package org.spreadosd.ds;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The bytes of a version on their way to or from a data server: whole, when they came complete with their
 * request or answer (a small HTTP upload or read, an RPC add), or as a stream to be consumed once. Whole bytes
 * are handled without a stream to materialize and without a thread waiting for the stream's elements, which
 * for small objects costs more than the bytes; they are never more than the message that carried them.
 *
 * @param bytes the whole body, or null when it streams
 * @param stream the body as a stream, or null when it is whole
 * @param size its length, or -1 when a stream did not announce one
 */
public record BlobBody(ByteString bytes, Source<ByteString, ?> stream, long size) {

    public static BlobBody of(ByteString bytes) {
        return new BlobBody(bytes, null, bytes.size());
    }

    /** @param size the announced length, or -1 when unknown */
    public static BlobBody streaming(Source<ByteString, ?> data, long size) {
        return new BlobBody(null, data, size);
    }

    /** An HTTP request's body: whole when Pekko HTTP received it with the headers, else its stream. */
    public static BlobBody of(HttpEntity entity) {
        if (entity instanceof HttpEntity.Strict strict) {
            return of(strict.getData());
        }
        return streaming(entity.getDataBytes(), entity.getContentLengthOption().orElse(-1L));
    }

    /**
     * Uploads that announce at most this many bytes are gathered whole before they are stored, though Pekko HTTP
     * delivered them as a stream (the body came in packets after the headers'): bytes in hand can be sent again
     * to the set's next member when the first is lost mid-add, so a dying data server fails no small add. A
     * bound per request, independent of the object's size.
     */
    public static final long GATHER_WHOLE_BYTES = 1 << 20;

    private static final Duration GATHER_TIMEOUT = Duration.ofSeconds(60);

    /** An HTTP request's body, whole when it announced at most {@link #GATHER_WHOLE_BYTES}, else its stream. */
    public static CompletionStage<BlobBody> gather(HttpEntity entity, Materializer mat) {
        if (entity instanceof HttpEntity.Strict strict) {
            return CompletableFuture.completedFuture(of(strict.getData()));
        }
        long announced = entity.getContentLengthOption().orElse(-1L);
        if (announced < 0 || announced > GATHER_WHOLE_BYTES) {
            return CompletableFuture.completedFuture(of(entity));
        }
        return entity.toStrict(GATHER_TIMEOUT.toMillis(), mat).thenApply(strict -> of(strict.getData()));
    }

    public boolean isWhole() {
        return bytes != null;
    }

    public Source<ByteString, ?> source() {
        return bytes != null ? Source.single(bytes) : stream;
    }

    /** Lets the bytes go unread (a refused add), so the sender is not left waiting to send them. */
    public void discard(Materializer mat) {
        if (stream != null) {
            stream.runWith(Sink.cancelled(), mat);
        }
    }
}
