package org.spreadosd.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * PUT /data/&lt;key&gt; and GET /data/&lt;key&gt; through one HTTP/1.1 client. Each worker sends blocking,
 * so the client's pool never has more connections in use than there are workers.
 */
final class HttpTarget implements Target {
    private static final int CHUNK = 64 * 1024;
    private static final int ERROR_TEXT_LIMIT = 200;

    private final String hostPort;
    private final Duration timeout;
    private final HttpClient client;

    HttpTarget(String host, int port, Duration timeout) {
        this.hostPort = host + ":" + port;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .build();
    }

    @Override
    public String describe() {
        return "http " + hostPort;
    }

    @Override
    public Connection open() {
        return new Connection() {
            @Override
            public void put(String key, ObjectContent content) throws IOException {
                OperationFailed.as("PUT " + key, () -> store(key, content));
            }

            @Override
            public void getAndVerify(String key, ObjectContent expected) throws IOException {
                OperationFailed.as("GET " + key, () -> readAndVerify(key, expected));
            }

            private void store(String key, ObjectContent content) throws IOException {
                // a known length, so the server gets Content-Length rather than a chunked body
                HttpRequest request = request(key)
                        .header("Content-Type", "application/octet-stream")
                        .PUT(BodyPublishers.fromPublisher(
                                BodyPublishers.ofInputStream(content::stream), content.size()))
                        .build();
                HttpResponse<InputStream> response = send(request);
                try (InputStream body = response.body()) {
                    if (response.statusCode() / 100 != 2) {
                        throw failure("PUT", key, response.statusCode(), body);
                    }
                    body.transferTo(OutputStream.nullOutputStream());
                }
            }

            private void readAndVerify(String key, ObjectContent expected) throws IOException {
                HttpResponse<InputStream> response = send(request(key).GET().build());
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        throw failure("GET", key, response.statusCode(), body);
                    }
                    ContentVerifier verifier = expected.verifier();
                    byte[] buf = new byte[CHUNK];
                    for (int n; (n = body.read(buf)) >= 0; ) {
                        verifier.accept(buf, 0, n);
                    }
                    verifier.finish();
                }
            }

            @Override
            public void close() {
                // the shared client keeps the connections for the next worker
            }
        };
    }

    private HttpRequest.Builder request(String key) {
        // keys are bench/<run id>/<n>: nothing in them needs escaping
        return HttpRequest.newBuilder(URI.create("http://" + hostPort + "/data/" + key))
                .timeout(timeout)
                // errors then come as one short JSON line rather than an HTML page
                .header("Accept", "application/json");
    }

    private HttpResponse<InputStream> send(HttpRequest request) throws IOException {
        try {
            return client.send(request, BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static OperationFailed failure(String method, String key, int status, InputStream body) throws IOException {
        String text = new String(body.readNBytes(ERROR_TEXT_LIMIT), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ")
                .strip();
        return new OperationFailed(method + " " + key, "HTTP " + status + (text.isEmpty() ? "" : " " + text));
    }
}
