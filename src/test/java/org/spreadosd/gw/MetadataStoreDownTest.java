package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spreadosd.testing.Http.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.TestNode;

/** With its metadata store gone, a gateway answers 503 (HTTP) or an error (RPC) and stores nothing. */
class MetadataStoreDownTest {
    @TempDir
    Path dir;

    @Test
    void requestsFailCleanlyWith503() throws IOException {
        try (TestNode node = TestNode.standalone(dir.resolve("store"))) {
            Http http = new Http();
            assertEquals(202, http.put(node.uri("/data/before"), "x".getBytes()).statusCode());
            node.node().metadataStore().close();

            HttpResponse<byte[]> get = http.get(node.uri("/data/before"));
            assertEquals(503, get.statusCode());
            assertTrue(text(get).contains("metadata store unavailable"), text(get));
            HttpResponse<byte[]> put = http.put(node.uri("/data/after"), "y".getBytes(), "Accept", "application/json");
            assertEquals(503, put.statusCode());
            assertTrue(text(put).startsWith("{\"error\":\"metadata store unavailable"), text(put));

            try (RpcClient rpc = new RpcClient(node.rpcPort())) {
                rpc.send(RpcClient.request(1, "get_data", true, p -> {
                    try {
                        p.packArrayHeader(1).packString("before");
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }));
                var answer = rpc.receive().asArrayValue().list();
                assertTrue(
                        answer.get(2).asStringValue().asString().contains("metadata store unavailable"),
                        answer.toString());
            }
            try (var files = Files.walk(dir.resolve("store").resolve("data"))) {
                assertEquals(1, files.filter(Files::isRegularFile).count(), "no bytes stored for the refused add");
            }
        }
    }
}
