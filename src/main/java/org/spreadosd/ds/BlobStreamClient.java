package org.spreadosd.ds;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/** The gateway's side of the node-to-node byte stream API: streams versions to and from a DS. */
public final class BlobStreamClient {
    private static final Duration ERROR_BODY_TIMEOUT = Duration.ofSeconds(5);

    /** What a DS said of a version it stored or is sending. */
    public record BlobFacts(long size, int crc32c, String contentType, int copies) {}

    /**
     * A version's bytes on their way from a DS: a small slice arrives whole, a larger one as a stream that must
     * be consumed or cancelled.
     */
    public record BlobDownload(BlobFacts facts, BlobBody body) {
        /** The slice's length. */
        public long length() {
            return body.size();
        }

        public Source<ByteString, ?> data() {
            return body.source();
        }
    }

    private static final CompletionStage<Void> NOW = CompletableFuture.completedFuture(null);

    private final Http http;
    private final Materializer mat;
    private final Duration answerTimeout;

    public BlobStreamClient(ActorSystem<?> system) {
        this(system, system.settings().config().getDuration("spreadosd.gw.ds-answer-timeout"));
    }

    public BlobStreamClient(ActorSystem<?> system, Duration answerTimeout) {
        this.http = Http.get(system);
        this.mat = Materializer.matFromSystem(system);
        this.answerTimeout = answerTimeout;
    }

    /** The data server at {@code dataUrl} as a {@link BlobLink}. */
    public BlobLink to(String dataUrl) {
        return new BlobLink() {
            @Override
            public CompletionStage<BlobFacts> put(VersionId v, String contentType, BlobBody body, boolean coordinate) {
                return BlobStreamClient.this.put(dataUrl, v, contentType, body, coordinate);
            }

            @Override
            public CompletionStage<Optional<BlobDownload>> get(VersionId v, long offset, long length) {
                return BlobStreamClient.this.get(dataUrl, v, offset, length);
            }

            @Override
            public CompletionStage<Boolean> delete(VersionId v) {
                return BlobStreamClient.this.delete(dataUrl, v);
            }
        };
    }

    /**
     * Streams a version to a DS.
     *
     * @param coordinate whether that DS coordinates the add: it copies the version to the set's other
     *     members and answers once the set's write policy is met; a member given a copy stores just its own
     */
    public CompletionStage<BlobFacts> put(
            String dataUrl, VersionId v, String contentType, BlobBody body, boolean coordinate) {
        return put(dataUrl, v, contentType, body, coordinate, null);
    }

    /**
     * Streams a version whose checksum is known (a coordinator's copy of a stored version): the receiver checks the
     * bytes against it before the version becomes visible there, and refuses a copy damaged on the way.
     *
     * @param crc32c the version's CRC-32C, announced in {@link BlobStreamPaths#CRC_HEADER}; null announces none
     */
    public CompletionStage<BlobFacts> put(
            String dataUrl, VersionId v, String contentType, BlobBody body, boolean coordinate, Integer crc32c) {
        RequestEntity entity;
        // The answer deadline runs from the moment the last byte is handed over: before that, the upload's own pace
        // (and the idle timeout) bounds it.
        CompletableFuture<Void> sent = new CompletableFuture<>();
        if (body.isWhole()) {
            entity = HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, body.bytes());
            sent.complete(null);
        } else if (body.size() == 0) {
            body.stream().runWith(Sink.ignore(), mat);
            entity = HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, new byte[0]);
            sent.complete(null);
        } else {
            Source<ByteString, ?> data = body.stream().watchTermination((m, done) -> {
                done.whenComplete((d, e) -> sent.complete(null));
                return m;
            });
            entity = body.size() > 0
                    ? HttpEntities.create(ContentTypes.APPLICATION_OCTET_STREAM, body.size(), data)
                    : HttpEntities.createChunked(ContentTypes.APPLICATION_OCTET_STREAM, data);
        }
        HttpRequest request = HttpRequest.PUT(dataUrl + BlobStreamPaths.path(v)).withEntity(entity);
        if (contentType != null) {
            request = request.addHeader(RawHeader.create(BlobStreamPaths.CONTENT_TYPE_HEADER, contentType));
        }
        if (coordinate) {
            request = request.addHeader(RawHeader.create(BlobStreamPaths.COORDINATE_HEADER, "1"));
        }
        if (crc32c != null) {
            request = request.addHeader(RawHeader.create(BlobStreamPaths.CRC_HEADER, Integer.toString(crc32c)));
        }
        return send(request, dataUrl, sent).thenCompose(response -> {
            if (response.status().intValue() == 201) {
                response.discardEntityBytes(mat);
                return CompletableFuture.completedFuture(facts(response));
            }
            return failed(response, dataUrl);
        });
    }

    /** Streams {@code length} bytes from {@code offset}; empty when the DS does not hold the version. */
    public CompletionStage<Optional<BlobDownload>> get(String dataUrl, VersionId v, long offset, long length) {
        String url = dataUrl + BlobStreamPaths.path(v) + "?offset=" + offset + "&length=" + length;
        return send(HttpRequest.GET(url), dataUrl, NOW).thenCompose(response -> {
            int status = response.status().intValue();
            if (status == 200) {
                HttpEntity entity = response.entity();
                BlobBody body = entity instanceof HttpEntity.Strict strict
                        ? BlobBody.of(strict.getData())
                        : BlobBody.streaming(
                                entity.getDataBytes(),
                                entity.getContentLengthOption().orElse(length));
                return CompletableFuture.completedFuture(Optional.of(new BlobDownload(facts(response), body)));
            }
            if (status == 404) {
                response.discardEntityBytes(mat);
                return CompletableFuture.completedFuture(Optional.empty());
            }
            return failed(response, dataUrl);
        });
    }

    public CompletionStage<Boolean> delete(String dataUrl, VersionId v) {
        return send(HttpRequest.DELETE(dataUrl + BlobStreamPaths.path(v)), dataUrl, NOW)
                .thenCompose(response -> {
                    int status = response.status().intValue();
                    if (status == 200 || status == 404) {
                        response.discardEntityBytes(mat);
                        return CompletableFuture.completedFuture(status == 200);
                    }
                    return failed(response, dataUrl);
                });
    }

    /**
     * A data server that cannot be reached, drops the connection or does not start to answer within the answer
     * timeout after {@code deadlineFrom} is a lost peer ({@link FailureCode#PEER_LOST}, 503 for the client, and the
     * gateway may try another member), not an internal error. An answer that arrives after the deadline is drained, so its connection goes back to the pool.
     */
    private CompletionStage<HttpResponse> send(HttpRequest request, String dataUrl, CompletionStage<?> deadlineFrom) {
        CompletableFuture<HttpResponse> answer = http.singleRequest(request).toCompletableFuture();
        CompletableFuture<HttpResponse> result = new CompletableFuture<>();
        answer.whenComplete((response, e) -> {
            if (e != null) {
                result.completeExceptionally(new SpreadFailure(
                        FailureCode.PEER_LOST,
                        "data server " + dataUrl + " unreachable: "
                                + SpreadFailure.cause(e).getMessage()));
            } else if (!result.complete(response)) {
                response.discardEntityBytes(mat);
            }
        });
        deadlineFrom.thenRun(() -> CompletableFuture.delayedExecutor(answerTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .execute(() -> result.completeExceptionally(new SpreadFailure(
                        FailureCode.PEER_LOST,
                        "data server " + dataUrl + " did not answer within " + answerTimeout.toMillis() + " ms"))));
        return result;
    }

    private static BlobFacts facts(HttpResponse response) {
        long size = Long.parseLong(header(response, BlobStreamPaths.SIZE_HEADER).orElse("-1"));
        int crc = Integer.parseInt(header(response, BlobStreamPaths.CRC_HEADER).orElse("0"));
        int copies =
                Integer.parseInt(header(response, BlobStreamPaths.COPIES_HEADER).orElse("1"));
        return new BlobFacts(
                size, crc, header(response, BlobStreamPaths.CONTENT_TYPE_HEADER).orElse(null), copies);
    }

    private static Optional<String> header(HttpResponse response, String name) {
        return response.getHeader(name).map(HttpHeader::value);
    }

    private <T> CompletionStage<T> failed(HttpResponse response, String dataUrl) {
        int status = response.status().intValue();
        return response.entity().toStrict(ERROR_BODY_TIMEOUT.toMillis(), mat).thenApply(strict -> {
            String message = strict.getData().utf8String();
            throw new SpreadFailure(
                    FailureCode.answeredByDataServer(status),
                    "data server " + dataUrl + " answered " + status + ": " + message);
        });
    }
}
