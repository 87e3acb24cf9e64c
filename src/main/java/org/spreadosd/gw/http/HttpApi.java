package org.spreadosd.gw.http;

import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.edge.ClientBufferBudget;
import org.spreadosd.edge.ClientLimits;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.PathCodec;
import org.spreadosd.model.Limits;

/**
 * The HTTP API of http-api.md: routes each request by its raw path to the object, command or direct
 * endpoints, and turns every failure into a status page that names the problem.
 */
public final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    private final ObjectEndpoints objects;
    private final DirectEndpoint direct;
    private final ErrorPages pages;
    private final Materializer mat;
    private final Limits limits;
    private final ClientLimits.Port port;
    private final ClientBufferBudget budget;

    public HttpApi(
            ObjectEndpoints objects,
            DirectEndpoint direct,
            ErrorPages pages,
            Materializer mat,
            Limits limits,
            ClientLimits.Port port,
            ClientBufferBudget budget) {
        this.objects = objects;
        this.direct = direct;
        this.pages = pages;
        this.mat = mat;
        this.limits = limits;
        this.port = port;
        this.budget = budget;
    }

    public CompletionStage<HttpResponse> handle(HttpRequest original) {
        RequestBuffers buffers = new RequestBuffers(budget);
        HttpRequest request = buffers.attachTo(guarded(original));
        CompletionStage<HttpResponse> answer;
        try {
            answer = route(request);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        // An unread request body is not drained: Pekko closes the connection after the error response
        // instead of reading a large upload that will be refused anyway.
        return answer.exceptionally(e -> failure(request, e)).whenComplete((r, e) -> buffers.releaseAll());
    }

    /** The request with its streamed body cut when it arrives slower than body-min-rate. */
    private HttpRequest guarded(HttpRequest request) {
        HttpEntity entity = request.entity();
        if (port.minRate() <= 0 || entity instanceof HttpEntity.Strict || entity.isKnownEmpty()) {
            return request;
        }
        Source<ByteString, ?> data = entity.getDataBytes().via(new BodyRateGuard(port.minRate(), port.rateWindow()));
        OptionalLong length = entity.getContentLengthOption();
        return request.withEntity(
                length.isPresent()
                        ? HttpEntities.create(entity.getContentType(), length.getAsLong(), data)
                        : HttpEntities.create(entity.getContentType(), data));
    }

    private CompletionStage<HttpResponse> route(HttpRequest request) {
        RawTarget target = RawTarget.of(request);
        String path = target.path();
        RequestParams query = RequestParams.fromQuery(target.query());
        HttpMethod m = request.method();
        if (path.startsWith("/data/")) {
            byte[] key = key(path.substring(6));
            if (m.equals(HttpMethods.GET) || m.equals(HttpMethods.HEAD)) {
                return objects.readData(request, key, query);
            } else if (m.equals(HttpMethods.POST)) {
                return objects.addFromForm(request, key, query, 200);
            } else if (m.equals(HttpMethods.PUT)) {
                return objects.addFromBody(request, key, query);
            } else if (m.equals(HttpMethods.DELETE)) {
                return objects.delete(request, key, query);
            }
            return notAllowed(request, "GET, HEAD, POST, PUT, DELETE");
        }
        if (path.startsWith("/attrs/")) {
            byte[] key = key(path.substring(7));
            if (m.equals(HttpMethods.GET) || m.equals(HttpMethods.HEAD)) {
                return objects.readAttrs(request, key, query);
            } else if (m.equals(HttpMethods.POST)) {
                return objects.updateAttrsFromForm(request, key, query, 200);
            } else if (m.equals(HttpMethods.PUT)) {
                return objects.updateAttrsFromBody(request, key, query);
            }
            return notAllowed(request, "GET, HEAD, POST, PUT");
        }
        if (path.startsWith("/redirect/")) {
            byte[] key = key(path.substring(10));
            if (m.equals(HttpMethods.GET) || m.equals(HttpMethods.HEAD)) {
                return objects.redirect(request, key, query);
            }
            return notAllowed(request, "GET, HEAD");
        }
        if (path.startsWith("/direct/")) {
            if (m.equals(HttpMethods.GET) || m.equals(HttpMethods.HEAD)) {
                return direct.read(request, path.substring(8));
            }
            return notAllowed(request, "GET, HEAD");
        }
        if (path.startsWith("/api/")) {
            if (!m.equals(HttpMethods.GET) && !m.equals(HttpMethods.POST)) {
                return notAllowed(request, "GET, POST");
            }
            return objects.command(request, path.substring(5), query);
        }
        throw new SpreadFailure(
                FailureCode.NOT_FOUND,
                "no such endpoint " + path
                        + ": use /data/<key>, /attrs/<key>, /redirect/<key>, /direct/<rsid>/<vtime>/<key> or /api/<cmd>");
    }

    private byte[] key(String encoded) {
        byte[] key;
        try {
            key = PathCodec.decode(encoded, false);
        } catch (IllegalArgumentException e) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "malformed key in path: " + e.getMessage());
        }
        return checkKey(key, limits);
    }

    /** Checked at routing, before a form body is read; the gateway checks again for what else calls it. */
    static byte[] checkKey(byte[] key, Limits limits) {
        if (key.length == 0) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "missing key");
        }
        return limits.key(key);
    }

    private CompletionStage<HttpResponse> notAllowed(HttpRequest request, String allow) {
        request.discardEntityBytes(mat);
        return CompletableFuture.completedFuture(
                pages.page(request, 405, request.method().value() + " is not allowed here; use " + allow)
                        .addHeader(RawHeader.create("Allow", allow)));
    }

    private HttpResponse failure(HttpRequest request, Throwable e) {
        SpreadFailure f = SpreadFailure.unwrap(e);
        if (!f.code().expected()) {
            log.error(
                    "unexpected failure of {} {}",
                    request.method().value(),
                    RawTarget.of(request).path(),
                    f.getCause());
        } else if (f.httpStatus() >= 500) {
            log.warn(
                    "{} {} failed with {}: {}",
                    request.method().value(),
                    RawTarget.of(request).path(),
                    f.httpStatus(),
                    f.getMessage());
        }
        HttpResponse page = pages.page(request, f.httpStatus(), f.getMessage());
        // the rest of a body cut for its rate is not worth reading: the connection goes with the answer
        return f.code() == FailureCode.CLIENT_TOO_SLOW ? page.addHeader(Connection.create("close")) : page;
    }
}
