package org.spreadosd.ds;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;
import org.spreadosd.ds.BlobStreamClient.BlobFacts;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/**
 * Serves a DS's node-to-node byte stream API ({@link BlobStreamPaths}) over HTTP: gateways and peers in other
 * processes stream versions in and out of the {@link BlobService}, so no object ever travels as one message.
 */
public final class BlobStreamServer {

    private final BlobService service;
    private final Materializer mat;

    public BlobStreamServer(BlobService service, Materializer mat) {
        this.service = service;
        this.mat = mat;
    }

    public CompletionStage<HttpResponse> handle(HttpRequest request) {
        VersionId v = BlobStreamPaths.parse(request.getUri().path());
        if (v == null) {
            request.discardEntityBytes(mat);
            return CompletableFuture.completedFuture(text(StatusCodes.NOT_FOUND, "no such blob path"));
        }
        if (request.method().equals(HttpMethods.PUT)) {
            return put(v, request);
        }
        request.discardEntityBytes(mat);
        if (request.method().equals(HttpMethods.GET)) {
            return get(v, request.getUri().query().toMap());
        }
        if (request.method().equals(HttpMethods.DELETE)) {
            return service.delete(v)
                    .thenApply(deleted -> text(
                            deleted ? StatusCodes.OK : StatusCodes.NOT_FOUND, deleted ? "deleted" : "not stored here"))
                    .exceptionally(e -> failure(v, e));
        }
        return CompletableFuture.completedFuture(text(StatusCodes.METHOD_NOT_ALLOWED, "use GET, PUT or DELETE"));
    }

    private CompletionStage<HttpResponse> put(VersionId v, HttpRequest request) {
        // An upload declared over the size limit is refused (413) by the service, which drains a modest excess first.
        String contentType = request.getHeader(BlobStreamPaths.CONTENT_TYPE_HEADER)
                .map(h -> h.value())
                .orElse(null);
        boolean coordinate =
                request.getHeader(BlobStreamPaths.COORDINATE_HEADER).isPresent();
        Integer expectedCrc;
        try {
            expectedCrc = request.getHeader(BlobStreamPaths.CRC_HEADER)
                    .map(h -> Integer.valueOf(h.value().trim()))
                    .orElse(null);
        } catch (NumberFormatException e) {
            request.discardEntityBytes(mat);
            return CompletableFuture.completedFuture(
                    text(StatusCodes.BAD_REQUEST, BlobStreamPaths.CRC_HEADER + " must be a 32-bit integer"));
        }
        return service.put(v, contentType, BlobBody.of(request.entity()), coordinate, expectedCrc)
                .thenApply(facts -> withFacts(HttpResponse.create().withStatus(StatusCodes.CREATED), facts)
                        .addHeader(RawHeader.create(BlobStreamPaths.COPIES_HEADER, Integer.toString(facts.copies()))))
                .exceptionally(e -> failure(v, e));
    }

    private CompletionStage<HttpResponse> get(VersionId v, Map<String, String> query) {
        long offset;
        long length;
        try {
            offset = parseLong(query.get("offset"), 0);
            length = parseLong(query.get("length"), Long.MAX_VALUE);
        } catch (SpreadFailure e) {
            return CompletableFuture.completedFuture(failure(v, e));
        }
        return service.get(v, offset, length)
                .thenApply(found -> {
                    if (found.isEmpty()) {
                        return text(StatusCodes.NOT_FOUND, "not stored here");
                    }
                    BlobDownload d = found.get();
                    // A streamed entity must have bytes; an empty slice (a presence check, an empty object) is a strict
                    // one.
                    BlobBody body = d.body();
                    return withFacts(HttpResponse.create(), d.facts())
                            .withEntity(
                                    body.isWhole() || body.size() == 0
                                            ? HttpEntities.create(
                                                    ContentTypes.APPLICATION_OCTET_STREAM,
                                                    body.isWhole() ? body.bytes() : ByteString.emptyByteString())
                                            : HttpEntities.create(
                                                    ContentTypes.APPLICATION_OCTET_STREAM, body.size(), body.stream()));
                })
                .exceptionally(e -> failure(v, e));
    }

    private static HttpResponse withFacts(HttpResponse response, BlobFacts facts) {
        HttpResponse r = response.addHeader(RawHeader.create(BlobStreamPaths.SIZE_HEADER, Long.toString(facts.size())))
                .addHeader(RawHeader.create(BlobStreamPaths.CRC_HEADER, Integer.toString(facts.crc32c())));
        if (facts.contentType() != null) {
            r = r.addHeader(RawHeader.create(BlobStreamPaths.CONTENT_TYPE_HEADER, facts.contentType()));
        }
        return r;
    }

    private static long parseLong(String s, long dflt) {
        if (s == null) {
            return dflt;
        }
        long v;
        try {
            v = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "offset and length must be integers, got '" + s + "'");
        }
        if (v < 0) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "negative offset or length");
        }
        return v;
    }

    private HttpResponse failure(VersionId v, Throwable e) {
        SpreadFailure f = service.failureOf(v, e);
        return text(StatusCodes.get(f.httpStatus()), String.valueOf(f.getMessage()));
    }

    private static HttpResponse text(StatusCode status, String message) {
        return HttpResponse.create().withStatus(status).withEntity(ContentTypes.TEXT_PLAIN_UTF8, message);
    }
}
