package org.spreadosd.ds;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.util.ByteString;
import java.util.function.Consumer;
import org.spreadosd.ds.replication.WriteCoordinator;
import org.spreadosd.model.Keys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a DS's node-to-node byte stream API ({@link BlobStreamPaths}): gateways and peers stream
 * versions in and out of the {@link DataStore} over HTTP, so no object ever travels as one message.
 */
public final class BlobStreamServer {
    /** How much of a refused oversized upload is read and dropped so that the sender sees the 413. */
    private static final long REFUSAL_DRAIN_LIMIT = 64L << 20;
    private static final Logger log = LoggerFactory.getLogger(BlobStreamServer.class);
    static final int CHUNK = 64 * 1024;

    private final DataStore store;
    private final Executor blocking;
    private final Materializer mat;
    private final Duration uploadIdleTimeout;
    private final WriteCoordinator coordinator;
    private final Consumer<BlobStreamPaths.Address> onCorrupt;
    private final long verifyBeforeSendBytes;

    /**
     * @param coordinator copies coordinated adds to the set's other members
     * @param onCorrupt told of every damaged version found while serving, to repair it from a peer
     * @param verifyBeforeSendBytes versions up to this size are checked against their checksum before the
     *     first byte goes out, so a reader falls back to another member instead of getting damaged bytes
     */
    public BlobStreamServer(DataStore store, Executor blocking, Materializer mat, Duration uploadIdleTimeout,
            WriteCoordinator coordinator, Consumer<BlobStreamPaths.Address> onCorrupt, long verifyBeforeSendBytes) {
        this.store = store;
        this.blocking = blocking;
        this.mat = mat;
        this.uploadIdleTimeout = uploadIdleTimeout;
        this.coordinator = coordinator;
        this.onCorrupt = onCorrupt;
        this.verifyBeforeSendBytes = verifyBeforeSendBytes;
    }

    public CompletionStage<HttpResponse> handle(HttpRequest request) {
        BlobStreamPaths.Address a = BlobStreamPaths.parse(request.getUri().path());
        if (a == null) {
            request.discardEntityBytes(mat);
            return CompletableFuture.completedFuture(text(StatusCodes.NOT_FOUND, "no such blob path"));
        }
        if (request.method().equals(HttpMethods.PUT)) {
            return put(a, request);
        }
        request.discardEntityBytes(mat);
        if (request.method().equals(HttpMethods.GET)) {
            return get(a, request.getUri().query().toMap());
        }
        if (request.method().equals(HttpMethods.DELETE)) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    boolean deleted = store.delete(a.rsid(), a.key(), a.vtime());
                    return text(deleted ? StatusCodes.OK : StatusCodes.NOT_FOUND, deleted ? "deleted" : "not stored here");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, blocking).exceptionally(e -> failure(a, e));
        }
        return CompletableFuture.completedFuture(text(StatusCodes.METHOD_NOT_ALLOWED, "use GET, PUT or DELETE"));
    }

    private CompletionStage<HttpResponse> put(BlobStreamPaths.Address a, HttpRequest request) {
        long expected = request.entity().getContentLengthOption().orElse(-1L);
        if (expected > store.maxObjectBytes()) {
            return refuseTooLarge(a, request, expected);
        }
        String contentType = request.getHeader(BlobStreamPaths.CONTENT_TYPE_HEADER).map(h -> h.value()).orElse(null);
        boolean coordinate = request.getHeader(BlobStreamPaths.COORDINATE_HEADER).isPresent() && coordinator != null;
        InputStream in = request.entity().getDataBytes().runWith(StreamConverters.asInputStream(uploadIdleTimeout), mat);
        CompletionStage<StoredBlob> stored = CompletableFuture.supplyAsync(() -> {
            try (in) {
                StoredBlob blob = store.write(a.rsid(), a.key(), a.vtime(), contentType, in, expected);
                log.debug("stored rsid={} key={} vtime={} size={}", a.rsid(), Keys.printable(a.key()), a.vtime(), blob.size());
                return blob;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, blocking);
        return stored.thenCompose(blob -> (coordinate ? coordinator.replicate(a.rsid(), a.key(), a.vtime(), blob)
                        : CompletableFuture.completedFuture(1))
                .thenApply(copies -> withFacts(HttpResponse.create().withStatus(StatusCodes.CREATED), blob)
                        .addHeader(RawHeader.create(BlobStreamPaths.COPIES_HEADER, Integer.toString(copies)))))
                .exceptionally(e -> failure(a, e));
    }

    /**
     * Answers 413 to an upload whose declared size is over the limit. Closing the connection with the body
     * still arriving can make the sender's TCP stack reset it before it reads the answer, so the gateway
     * would see a dead peer (503) instead of the refusal; a modest excess is therefore read and dropped
     * first (a lingering close), a large one is cut off at once.
     */
    private CompletionStage<HttpResponse> refuseTooLarge(BlobStreamPaths.Address a, HttpRequest request, long declared) {
        HttpResponse refusal = failure(a, new ObjectTooLargeException(declared, store.maxObjectBytes()));
        if (declared - store.maxObjectBytes() > REFUSAL_DRAIN_LIMIT) {
            return CompletableFuture.completedFuture(refusal);
        }
        return request.discardEntityBytes(mat).completionStage().handle((done, e) -> refusal);
    }

    private CompletionStage<HttpResponse> get(BlobStreamPaths.Address a, Map<String, String> query) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Optional<StoredBlob> found = store.find(a.rsid(), a.key(), a.vtime());
                if (found.isEmpty()) {
                    return text(StatusCodes.NOT_FOUND, "not stored here");
                }
                StoredBlob blob = found.get();
                if (blob.size() <= verifyBeforeSendBytes) {
                    store.verify(blob);
                }
                long offset = Math.min(parseLong(query.get("offset"), 0), blob.size());
                long length = Math.min(parseLong(query.get("length"), blob.size()), blob.size() - offset);
                // A streamed entity must have bytes; an empty slice (a presence check, an empty object) is a strict one.
                return withFacts(HttpResponse.create(), blob).withEntity(length == 0
                        ? HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, new byte[0])
                        : HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, length, source(store, blob, offset, length)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, blocking).exceptionally(e -> failure(a, e));
    }

    /** The bytes of a slice of a stored version, read on the stream's blocking-I/O dispatcher. */
    public static Source<ByteString, ?> source(DataStore store, StoredBlob blob, long offset, long length) {
        return StreamConverters.fromInputStream(() -> store.open(blob, offset, length), CHUNK);
    }

    private static HttpResponse withFacts(HttpResponse response, StoredBlob blob) {
        HttpResponse r = response
                .addHeader(RawHeader.create(BlobStreamPaths.SIZE_HEADER, Long.toString(blob.size())))
                .addHeader(RawHeader.create(BlobStreamPaths.CRC_HEADER, Integer.toString(blob.header().crc32c())));
        if (blob.header().contentType() != null) {
            r = r.addHeader(RawHeader.create(BlobStreamPaths.CONTENT_TYPE_HEADER, blob.header().contentType()));
        }
        return r;
    }

    private static long parseLong(String s, long dflt) {
        if (s == null) {
            return dflt;
        }
        long v = Long.parseLong(s);
        if (v < 0) {
            throw new IllegalArgumentException("negative offset or length");
        }
        return v;
    }

    private HttpResponse failure(BlobStreamPaths.Address a, Throwable e) {
        Throwable cause = e instanceof CompletionException || e instanceof UncheckedIOException ? e.getCause() : e;
        if (cause instanceof UncheckedIOException u) {
            cause = u.getCause();
        }
        StatusCode status;
        if (cause instanceof DataServerException d) {
            status = StatusCodes.get(d.status());
            log.warn("add not acknowledged rsid={} key={} vtime={}: {}", a.rsid(), Keys.printable(a.key()), a.vtime(), d.getMessage());
        } else if (cause instanceof VersionDeletedException) {
            status = StatusCodes.GONE;
        } else if (cause instanceof BlobExistsException) {
            status = StatusCodes.CONFLICT;
        } else if (cause instanceof ObjectTooLargeException) {
            status = StatusCodes.PAYLOAD_TOO_LARGE;
        } else if (cause instanceof CorruptBlobException) {
            status = StatusCodes.INTERNAL_SERVER_ERROR;
            log.error("corrupt blob rsid={} key={} vtime={}: {}", a.rsid(), Keys.printable(a.key()), a.vtime(), cause.getMessage());
            onCorrupt.accept(a);
        } else if (cause instanceof IllegalArgumentException) {
            status = StatusCodes.BAD_REQUEST;
        } else if (cause instanceof IOException && String.valueOf(cause.getMessage()).contains("No space left")) {
            status = StatusCodes.INSUFFICIENT_STORAGE;
            log.error("store full: rsid={} key={} vtime={}", a.rsid(), Keys.printable(a.key()), a.vtime());
        } else {
            status = StatusCodes.SERVICE_UNAVAILABLE;
            log.warn("blob request failed rsid={} key={} vtime={}: {}", a.rsid(), Keys.printable(a.key()), a.vtime(), cause.toString());
        }
        return text(status, String.valueOf(cause.getMessage()));
    }

    private static HttpResponse text(StatusCode status, String message) {
        return HttpResponse.create().withStatus(status).withEntity(ContentTypes.TEXT_PLAIN_UTF8, message);
    }
}
