package org.spreadosd.gw.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.Gateway.StagedVersion;

/**
 * Reads the parameters a request carries in its body: {@code application/x-www-form-urlencoded} or
 * {@code multipart/form-data}. Small fields are read into memory with a size limit; the {@code data}
 * field of a multipart add is streamed straight to the data servers, never held whole.
 */
final class FormReader {
    private static final Duration STRICT_TIMEOUT = Duration.ofSeconds(60);

    /** Where the data of a multipart add goes as it arrives: staged on the set, given the params seen so far. */
    interface DataSink {
        CompletionStage<StagedVersion> stage(RequestParams paramsSoFar, Source<ByteString, ?> data, String contentType);
    }

    /** The params of an add, and the staged data when it came as a streamed multipart part. */
    record AddForm(RequestParams params, StagedVersion staged) {}

    private final Materializer mat;
    private final long maxFormBytes;
    private final long maxFieldBytes;

    FormReader(Materializer mat, long maxFormBytes, long maxFieldBytes) {
        this.mat = mat;
        this.maxFormBytes = maxFormBytes;
        this.maxFieldBytes = maxFieldBytes;
    }

    /** Adds the body's form fields (if any) to {@code params}; any other body is drained and ignored. */
    CompletionStage<RequestParams> read(HttpRequest request, RequestParams params) {
        return readForAdd(request, params, null).thenApply(AddForm::params);
    }

    CompletionStage<AddForm> readForAdd(HttpRequest request, RequestParams params, DataSink dataSink) {
        HttpEntity entity = request.entity();
        var mt = entity.getContentType().mediaType();
        String mediaType = mt.mainType() + "/" + mt.subType();
        if (mediaType.equals("application/x-www-form-urlencoded")) {
            return strict(RequestBuffers.of(request), entity, maxFormBytes).thenApply(body -> {
                params.addUrlEncoded(body.decodeString(StandardCharsets.ISO_8859_1));
                return new AddForm(params, null);
            });
        }
        if (mediaType.equals("multipart/form-data")) {
            return Unmarshaller.entityToMultipartFormData()
                    .unmarshal(entity, mat)
                    .thenCompose(form -> readParts(RequestBuffers.of(request), form, params, dataSink));
        }
        entity.discardBytes(mat);
        return CompletableFuture.completedFuture(new AddForm(params, null));
    }

    private CompletionStage<AddForm> readParts(
            RequestBuffers buffers, Multipart.FormData form, RequestParams params, DataSink dataSink) {
        return form.getParts()
                .runFoldAsync(
                        new AddForm(params, null),
                        (acc, part) -> {
                            if (dataSink != null
                                    && part.getName().equals("data")
                                    && acc.staged() == null
                                    && !acc.params().has("data")) {
                                String ct = part.getFilename().isPresent()
                                        ? part.getEntity().getContentType().toString()
                                        : null;
                                return dataSink.stage(
                                                acc.params(), part.getEntity().getDataBytes(), ct)
                                        .thenApply(staged -> new AddForm(acc.params(), staged));
                            }
                            return strict(buffers, part.getEntity(), maxFieldBytes)
                                    .thenApply(bytes -> {
                                        acc.params().put(part.getName(), bytes.toArray());
                                        return acc;
                                    });
                        },
                        mat);
    }

    /** The body or field in memory, reserved from the node's buffer budget as it arrives. */
    private CompletionStage<ByteString> strict(RequestBuffers buffers, HttpEntity entity, long limit) {
        return buffers.gather(
                entity.getDataBytes(),
                limit,
                () -> new SpreadFailure(
                        FailureCode.TOO_LARGE,
                        "form field or body larger than " + limit
                                + " bytes; send large data with PUT /data/<key> or as a multipart file"),
                mat);
    }
}
