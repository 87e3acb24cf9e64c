package org.spreadosd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A small real HTTP client for tests (java.net.http), answering raw bytes. */
public final class Http {
    private final HttpClient client = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    public HttpResponse<byte[]> send(HttpRequest request) {
        try {
            return client.send(request, BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<byte[]> get(URI uri, String... headers) {
        return send(builder(uri, headers).GET().build());
    }

    public HttpResponse<byte[]> method(String method, URI uri, BodyPublisher body, String... headers) {
        return send(builder(uri, headers).method(method, body).build());
    }

    public HttpResponse<byte[]> put(URI uri, byte[] body, String... headers) {
        return method("PUT", uri, BodyPublishers.ofByteArray(body), headers);
    }

    /** A form post, like {@code curl -d 'a=1&b=2'}. */
    public HttpResponse<byte[]> form(String method, URI uri, String urlEncoded, String... headers) {
        String[] all = new String[headers.length + 2];
        System.arraycopy(headers, 0, all, 0, headers.length);
        all[headers.length] = "Content-Type";
        all[headers.length + 1] = "application/x-www-form-urlencoded";
        return method(method, uri, BodyPublishers.ofString(urlEncoded), all);
    }

    private static HttpRequest.Builder builder(URI uri, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b;
    }

    public static String text(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }
}
