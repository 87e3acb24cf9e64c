package org.spreadosd.gw.http;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.Gateway;
import org.spreadosd.gw.Gateway.StagedVersion;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.Keys;
import org.spreadosd.model.Limits;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionRecord;

/** {@code /data}, {@code /attrs}, {@code /redirect} and the {@code /api/<cmd>} commands, over the {@link Gateway}. */
public final class ObjectEndpoints {
    private final Gateway gateway;
    private final FormReader forms;
    private final ErrorPages pages;
    private final Materializer mat;
    private final Limits limits;

    public ObjectEndpoints(Gateway gateway, ErrorPages pages, Materializer mat, long maxFormBytes, Limits limits) {
        this.gateway = gateway;
        this.forms = new FormReader(mat, maxFormBytes, Math.min(maxFormBytes, 1 << 20));
        this.pages = pages;
        this.mat = mat;
        this.limits = limits;
    }

    // ---- data ----

    CompletionStage<HttpResponse> readData(HttpRequest request, byte[] key, RequestParams query) {
        return forms.read(request, query).thenCompose(params -> readData(request, key, params.selector()));
    }

    private CompletionStage<HttpResponse> readData(HttpRequest request, byte[] key, Selector selector) {
        return gateway.find(key, selector).thenCompose(found -> {
            if (found.isEmpty()) {
                return notFound(request, key, selector);
            }
            VersionRecord v = found.get();
            var facts = new VersionResponses.VersionFacts(v.size(), v.etag(), v.vtime(), v.contentType(), v.rsid());
            return VersionResponses.serve(request, facts, (offset, length) -> gateway.open(v, offset, length));
        });
    }

    /** PUT /data/key: the body is the data; vname and attrs come in the query string. */
    CompletionStage<HttpResponse> addFromBody(HttpRequest request, byte[] key, RequestParams query) {
        AddOptions options = AddOptions.of(query, limits);
        HttpEntity entity = request.entity();
        String contentType = limits.contentType(entity.getContentType().toString());
        return gathered(request)
                .thenCompose(body -> gateway.stage(key, body, contentType))
                .thenCompose(staged -> gateway.commit(staged, options.vname(), options.attrs()))
                .thenApply(v -> added(request, 202, v.objectKey()));
    }

    /**
     * A small upload gathered whole when the node's buffer budget has room for what it announced (so that a lost
     * member can be retried with the bytes in hand), else streamed like a large one: a spent budget slows no PUT.
     */
    private CompletionStage<BlobBody> gathered(HttpRequest request) {
        HttpEntity entity = request.entity();
        long announced = entity.getContentLengthOption().orElse(-1L);
        if (!(entity instanceof HttpEntity.Strict)
                && announced >= 0
                && announced <= BlobBody.GATHER_WHOLE_BYTES
                && !RequestBuffers.of(request).tryReserve(announced)) {
            return CompletableFuture.completedFuture(BlobBody.of(entity));
        }
        return BlobBody.gather(entity, mat);
    }

    /** POST /data/key and /api/add: data= in a form; a multipart data part streams straight to the set. */
    CompletionStage<HttpResponse> addFromForm(HttpRequest request, byte[] pathKey, RequestParams query, int status) {
        FormReader.DataSink sink = (paramsSoFar, data, contentType) -> {
            byte[] key = pathKey != null ? pathKey : requireKeyBeforeData(paramsSoFar);
            AddOptions.of(paramsSoFar, limits);
            return gateway.stage(key, BlobBody.streaming(data, -1), limits.contentType(contentType));
        };
        return forms.readForAdd(request, query, sink)
                .thenCompose(form -> {
                    RequestParams params = form.params();
                    StagedVersion staged = form.staged();
                    AddOptions options;
                    try {
                        options = AddOptions.of(params, limits);
                    } catch (SpreadFailure invalid) {
                        if (staged != null) {
                            return gateway.discard(staged).thenApply(ignored -> {
                                throw invalid;
                            });
                        }
                        throw invalid;
                    }
                    if (staged != null) {
                        return gateway.commit(staged, options.vname(), options.attrs());
                    }
                    byte[] key = pathKey != null ? pathKey : HttpApi.checkKey(params.require("key"), limits);
                    byte[] data = params.require("data");
                    return gateway.add(
                            key, BlobBody.of(ByteString.fromArray(data)), null, options.vname(), options.attrs());
                })
                .thenApply(v -> added(request, status, v.objectKey()));
    }

    private byte[] requireKeyBeforeData(RequestParams paramsSoFar) {
        byte[] key = paramsSoFar.optional("key");
        if (key == null) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST,
                    "missing required parameter 'key' (in a multipart form it must come before 'data')");
        }
        return HttpApi.checkKey(key, limits);
    }

    CompletionStage<HttpResponse> delete(HttpRequest request, byte[] key, RequestParams query) {
        return forms.read(request, query).thenCompose(params -> deleteSelected(request, key, params));
    }

    // ---- attrs ----

    CompletionStage<HttpResponse> readAttrs(HttpRequest request, byte[] key, RequestParams query) {
        return forms.read(request, query).thenCompose(params -> attrsOf(request, key, params));
    }

    private CompletionStage<HttpResponse> attrsOf(HttpRequest request, byte[] key, RequestParams params) {
        Selector selector = params.selector();
        AttrFormat format = params.format();
        return gateway.find(key, selector)
                .thenCompose(found -> found.isEmpty()
                        ? notFound(request, key, selector)
                        : done(HttpResponse.create()
                                .addHeader(RawHeader.create(
                                        "X-Spread-Vtime",
                                        Long.toString(found.get().vtime())))
                                .withEntity(HttpEntities.create(
                                        ContentTypes.parse(format.contentType()),
                                        format.render(found.get().attrs())))));
    }

    CompletionStage<HttpResponse> updateAttrsFromForm(
            HttpRequest request, byte[] key, RequestParams query, int status) {
        return forms.read(request, query).thenCompose(params -> {
            Attributes attrs = params.format().parse(params.require("attrs"));
            return updateAttrs(request, key, attrs, status);
        });
    }

    /** PUT /attrs/key: the body is the encoded attributes; format= in the query string. */
    CompletionStage<HttpResponse> updateAttrsFromBody(HttpRequest request, byte[] key, RequestParams query) {
        AttrFormat format = query.format();
        return RequestBuffers.of(request)
                .gather(request.entity().getDataBytes(), limits.maxAttrsBytes(), limits::attrsBodyTooLarge, mat)
                .thenCompose(body -> updateAttrs(request, key, format.parse(body.toArray()), 202));
    }

    private CompletionStage<HttpResponse> updateAttrs(HttpRequest request, byte[] key, Attributes attrs, int status) {
        return gateway.updateAttrs(key, attrs)
                .thenCompose(okey -> okey.isPresent()
                        ? done(added(request, status, okey.get()))
                        : notFound(request, key, Selector.HEAD));
    }

    // ---- redirect and url ----

    CompletionStage<HttpResponse> redirect(HttpRequest request, byte[] key, RequestParams query) {
        return forms.read(request, query).thenCompose(params -> {
            Selector selector = params.selector();
            return gateway.url(key, selector)
                    .thenCompose(url -> url.isEmpty()
                            ? notFound(request, key, selector)
                            : done(HttpResponse.create()
                                    .withStatus(StatusCodes.FOUND)
                                    .addHeader(RawHeader.create("Location", url.get()))
                                    .withEntity(ContentTypes.TEXT_PLAIN_UTF8, url.get())));
        });
    }

    // ---- /api/<cmd> ----

    CompletionStage<HttpResponse> command(HttpRequest request, String cmd, RequestParams query) {
        if (cmd.equals("add") || cmd.equals("add_data")) {
            return addFromForm(request, null, query, 200);
        }
        if (!ApiCommand.known(cmd)) {
            request.discardEntityBytes(mat);
            throw new SpreadFailure(
                    FailureCode.UNKNOWN_COMMAND,
                    "unknown command '" + cmd + "': use get_data, get_attrs, add, add_data,"
                            + " update_attrs, delete, remove or url");
        }
        return forms.read(request, query).thenCompose(params -> {
            byte[] key = HttpApi.checkKey(params.require("key"), limits);
            return switch (cmd) {
                case "get_data" -> readData(request, key, params.selector());
                case "get_attrs" -> attrsOf(request, key, params);
                case "update_attrs" -> updateAttrs(request, key, params.format().parse(params.require("attrs")), 200);
                case "delete" -> deleteSelected(request, key, params);
                case "remove" ->
                    gateway.remove(key)
                            .thenCompose(mark -> mark.isPresent()
                                    ? done(added(request, 200, mark.get()))
                                    : notFound(request, key, Selector.HEAD));
                case "url" -> {
                    Selector selector = params.selector();
                    yield gateway.url(key, selector)
                            .thenCompose(url -> url.isEmpty()
                                    ? notFound(request, key, selector)
                                    : done(HttpResponse.create().withEntity(ContentTypes.TEXT_PLAIN_UTF8, url.get())));
                }
                default -> throw new IllegalStateException(cmd);
            };
        });
    }

    private CompletionStage<HttpResponse> deleteSelected(HttpRequest request, byte[] key, RequestParams params) {
        Selector selector = params.selector();
        return gateway.delete(key, selector)
                .thenCompose(deleted -> deleted.isPresent()
                        ? ok(request, 200, "deleted version " + deleted.get().vtime())
                        : notFound(request, key, selector));
    }

    // ---- responses ----

    private HttpResponse added(HttpRequest request, int status, ObjectKey okey) {
        return pages.page(request, status, status == 202 ? "Accepted" : "OK")
                .addHeader(RawHeader.create("X-Spread-Vtime", Long.toString(okey.vtime())))
                .addHeader(RawHeader.create("X-Spread-Rsid", Integer.toString(okey.rsid())));
    }

    private CompletionStage<HttpResponse> ok(HttpRequest request, int status, String message) {
        return done(pages.page(request, status, message));
    }

    private CompletionStage<HttpResponse> notFound(HttpRequest request, byte[] key, Selector selector) {
        String which = selector instanceof Selector.AtTime t
                ? " vtime=" + t.vtime()
                : selector instanceof Selector.Named n ? " vname=" + Keys.printable(n.vname()) : "";
        return done(pages.page(request, 404, "key=" + Keys.printable(key) + which + " not found"));
    }

    private static CompletionStage<HttpResponse> done(HttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    /** The vname and attributes of an add, checked before any byte is stored. */
    record AddOptions(byte[] vname, Attributes attrs) {
        static AddOptions of(RequestParams params, Limits limits) {
            byte[] vname = limits.vname(params.optional("vname"));
            if (params.has("vtime")) {
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST, "vtime cannot be given to an add: the server assigns it");
            }
            byte[] raw = params.optional("attrs");
            Attributes attrs = raw == null
                    ? Attributes.EMPTY
                    : limits.attrs(params.format().parse(raw));
            return new AddOptions(vname, attrs);
        }
    }

    /** The commands of {@code /api/<cmd>} other than add. */
    private static final class ApiCommand {
        private static final Set<String> NAMES =
                Set.of("get_data", "get_attrs", "update_attrs", "delete", "remove", "url");

        static boolean known(String cmd) {
            return NAMES.contains(cmd);
        }
    }
}
