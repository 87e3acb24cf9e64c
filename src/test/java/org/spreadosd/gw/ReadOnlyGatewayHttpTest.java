package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spreadosd.testing.Http.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.TestNode;

/** A node started read-only with the operator's own error page template. */
class ReadOnlyGatewayHttpTest {
    @TempDir
    Path dir;

    @Test
    void writesAre403OnTheOperatorsErrorPage() throws Exception {
        Path template = dir.resolve("error.html");
        Files.writeString(template, "<p class=oops>{{status}}|{{title}}|{{message}}</p>");
        try (TestNode node = TestNode.standalone(
                dir.resolve("store"),
                Map.of("spreadosd.read-only", true, "spreadosd.http.error-page", template.toString()))) {
            Http http = new Http();
            HttpResponse<byte[]> put = http.put(node.uri("/data/k"), "x".getBytes());
            assertEquals(403, put.statusCode());
            assertTrue(text(put).startsWith("<p class=oops>403|Forbidden|this gateway is read-only"), text(put));
            assertEquals(403, http.form("POST", node.uri("/data/k"), "data=x").statusCode());
            assertEquals(403, http.get(node.uri("/api/add?key=k&data=x")).statusCode());
            assertEquals(403, http.get(node.uri("/api/remove?key=k")).statusCode());
            assertEquals(
                    403,
                    http.method("DELETE", node.uri("/data/k"), BodyPublishers.noBody())
                            .statusCode());
            assertEquals(
                    403, http.form("POST", node.uri("/attrs/k"), "attrs={}").statusCode());
            try (RpcClient rpc = new RpcClient(node.rpcPort())) {
                rpc.send(RpcClient.request(1, "add_data", true, p -> {
                    try {
                        p.packArrayHeader(2).packString("k").packString("x");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
                var answer = rpc.receive().asArrayValue().list();
                assertTrue(
                        answer.get(2).asStringValue().asString().contains("read-only"),
                        "RPC writes refused too: " + answer);
            }
            HttpResponse<byte[]> missing = http.get(node.uri("/data/k"));
            assertEquals(404, missing.statusCode(), "reads still work");
            assertTrue(text(missing).startsWith("<p class=oops>404|Not Found|key=k"), text(missing));
        }
    }
}
