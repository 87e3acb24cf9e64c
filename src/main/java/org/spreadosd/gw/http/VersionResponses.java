package org.spreadosd.gw.http;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;

/**
 * Answers a read of one version's bytes with the headers of a modern object store: ETag and
 * Last-Modified, 304 for a matching If-None-Match or If-Modified-Since, Range with 206, HEAD, and the
 * Content-Type stored at add time. The bytes come from {@code open} only when they are needed.
 */
final class VersionResponses {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    /** What is known of a version before its bytes are fetched. */
    record VersionFacts(long size, String etag, long vtime, String contentType, Integer rsid) {}

    /** Opens {@code length} bytes from {@code offset}. */
    interface Opener extends BiFunction<Long, Long, CompletionStage<BlobDownload>> {}

    private VersionResponses() {}

    static CompletionStage<HttpResponse> serve(HttpRequest request, VersionFacts v, Opener open) {
        String quotedEtag = "\"" + v.etag() + "\"";
        HttpResponse base = HttpResponse.create()
                .addHeader(RawHeader.create("ETag", quotedEtag))
                .addHeader(RawHeader.create("Last-Modified", HTTP_DATE.format(Instant.ofEpochSecond(v.vtime()))))
                .addHeader(RawHeader.create("Accept-Ranges", "bytes"))
                .addHeader(RawHeader.create("X-Spread-Vtime", Long.toString(v.vtime())));
        if (v.rsid() != null) {
            base = base.addHeader(RawHeader.create("X-Spread-Rsid", Integer.toString(v.rsid())));
        }
        if (notModified(request, quotedEtag, v.vtime())) {
            return done(base.withStatus(StatusCodes.NOT_MODIFIED));
        }
        ByteRange range;
        try {
            range = rangeIfCurrent(request, quotedEtag, v.size());
        } catch (ByteRange.Unsatisfiable e) {
            return done(base.withStatus(StatusCodes.RANGE_NOT_SATISFIABLE)
                    .addHeader(RawHeader.create("Content-Range", "bytes */" + v.size()))
                    .withEntity(
                            ContentTypes.TEXT_PLAIN_UTF8,
                            "range not satisfiable: the object is " + v.size() + " bytes"));
        }
        long offset = range == null ? 0 : range.offset();
        long length = range == null ? v.size() : range.length();
        HttpResponse response = range == null
                ? base
                : base.withStatus(StatusCodes.PARTIAL_CONTENT)
                        .addHeader(RawHeader.create("Content-Range", range.contentRange(v.size())));
        ContentType contentType = contentType(v.contentType());
        if (length == 0) {
            return done(response.withEntity(HttpEntities.create(contentType, new byte[0])));
        }
        if (request.method().equals(HttpMethods.HEAD)) {
            return done(response.withEntity(HttpEntities.create(contentType, length, Source.empty())));
        }
        HttpResponse headers = response;
        // A slice that came whole goes out as one strict entity: no stream to run for a small object.
        return open.apply(offset, length)
                .thenApply(d -> headers.withEntity(
                        d.body().isWhole()
                                ? HttpEntities.create(contentType, d.body().bytes())
                                : HttpEntities.create(contentType, length, d.data())));
    }

    static ContentType contentType(String stored) {
        if (stored == null) {
            return ContentTypes.APPLICATION_OCTET_STREAM;
        }
        try {
            return ContentTypes.parse(stored);
        } catch (RuntimeException e) {
            return ContentTypes.APPLICATION_OCTET_STREAM;
        }
    }

    private static boolean notModified(HttpRequest request, String quotedEtag, long vtime) {
        String inm = request.getHeader("If-None-Match").map(HttpHeader::value).orElse(null);
        if (inm != null) {
            for (String tag : inm.split(",")) {
                String t = tag.trim();
                if (t.equals("*") || t.equals(quotedEtag) || t.equals("W/" + quotedEtag)) {
                    return true;
                }
            }
            return false;
        }
        String ims =
                request.getHeader("If-Modified-Since").map(HttpHeader::value).orElse(null);
        if (ims != null) {
            try {
                return ZonedDateTime.parse(ims.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                                .toEpochSecond()
                        >= vtime;
            } catch (DateTimeParseException e) {
                return false;
            }
        }
        return false;
    }

    /** If-Range with another validator means the client's partial copy is stale: send everything. */
    private static ByteRange rangeIfCurrent(HttpRequest request, String quotedEtag, long size) {
        String ifRange = request.getHeader("If-Range").map(HttpHeader::value).orElse(null);
        if (ifRange != null && !ifRange.trim().equals(quotedEtag)) {
            return null;
        }
        return ByteRange.parse(request.getHeader("Range").map(HttpHeader::value).orElse(null), size);
    }

    private static CompletionStage<HttpResponse> done(HttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
