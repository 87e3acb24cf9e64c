package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.stream.Materializer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.UpdateLog;
import org.spreadosd.ds.replication.ReplicaProtocol.Digests;
import org.spreadosd.ds.replication.ReplicaProtocol.InventoryPage;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.ds.replication.ReplicaProtocol.LogRecord;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;

/** Answers a peer's questions about this DS's update logs and inventories ({@link ReplicaProtocol}). */
public final class ReplicaApi {
    static final int MAX_BATCH = 1000;

    private final DataStore store;
    private final Executor blocking;
    private final Materializer mat;

    public ReplicaApi(DataStore store, Executor blocking, Materializer mat) {
        this.store = store;
        this.blocking = blocking;
        this.mat = mat;
    }

    public static boolean handles(String path) {
        return path.startsWith(ReplicaProtocol.LOG)
                || path.startsWith(ReplicaProtocol.INVENTORY)
                || path.startsWith(ReplicaProtocol.DIGEST)
                || path.startsWith(ReplicaProtocol.BUCKET);
    }

    public CompletionStage<HttpResponse> handle(HttpRequest request) {
        request.discardEntityBytes(mat);
        if (!request.method().equals(HttpMethods.GET)) {
            return CompletableFuture.completedFuture(text(405, "use GET"));
        }
        String path = request.getUri().path();
        Map<String, String> q = request.getUri().query().toMap();
        return CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                Object answer;
                                if (path.startsWith(ReplicaProtocol.LOG)) {
                                    answer = log(rsid(path, ReplicaProtocol.LOG), q);
                                } else if (path.startsWith(ReplicaProtocol.INVENTORY)) {
                                    int rsid = rsid(path, ReplicaProtocol.INVENTORY);
                                    Position tail =
                                            Position.of(store.updateLog(rsid).tail());
                                    answer = new InventoryPage(
                                            new Inventory(store, rsid).list(q.get("after"), max(q)), tail);
                                } else if (path.startsWith(ReplicaProtocol.DIGEST)) {
                                    answer = new Digests(
                                            new Inventory(store, rsid(path, ReplicaProtocol.DIGEST)).digests());
                                } else {
                                    String[] parts = path.substring(ReplicaProtocol.BUCKET.length())
                                            .split("/", -1);
                                    if (parts.length != 2 || !parts[1].matches("[0-9a-f]{2}")) {
                                        throw new IllegalArgumentException(
                                                "expected /_spread/v1/bucket/<rsid>/<two hex digits>");
                                    }
                                    int rsid = parseRsid(parts[0]);
                                    answer = new InventoryPage(
                                            new Inventory(store, rsid).bucket(parts[1]),
                                            Position.of(store.updateLog(rsid).tail()));
                                }
                                return HttpResponse.create()
                                        .withEntity(
                                                ContentTypes.APPLICATION_JSON,
                                                ReplicaProtocol.JSON.writeValueAsBytes(answer));
                            } catch (IllegalArgumentException e) {
                                return text(400, e.getMessage());
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        },
                        blocking)
                .exceptionally(e -> text(503, "cannot answer " + path + ": " + e.getMessage()));
    }

    private LogBatch log(int rsid, Map<String, String> q) throws IOException {
        long from = q.containsKey("from") ? Long.parseLong(q.get("from")) : UpdateLog.start();
        // A position in another log, or past a bad last record that was cut off and may now fall inside a later
        // record, reads from the start; the batch's log id tells the peer.
        UpdateLog.Batch read = store.updateLog(rsid).read(logId(q.get("log")), from, max(q));
        var entries = read.entries().stream().map(LogRecord::of).toList();
        return new LogBatch(read.from(), entries, Position.of(read.tail()));
    }

    private static UUID logId(String text) {
        try {
            return text == null ? null : UUID.fromString(text);
        } catch (IllegalArgumentException notAnId) {
            return null;
        }
    }

    private static int max(Map<String, String> q) {
        int max = q.containsKey("max") ? Integer.parseInt(q.get("max")) : MAX_BATCH;
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1");
        }
        return Math.min(max, MAX_BATCH);
    }

    private static int rsid(String path, String prefix) {
        return parseRsid(path.substring(prefix.length()));
    }

    private static int parseRsid(String text) {
        int rsid = Integer.parseInt(text);
        if (rsid < 0) {
            throw new IllegalArgumentException("rsid must be >= 0");
        }
        return rsid;
    }

    private static HttpResponse text(int status, String message) {
        return HttpResponse.create()
                .withStatus(StatusCodes.get(status))
                .withEntity(ContentTypes.TEXT_PLAIN_UTF8, message);
    }
}
