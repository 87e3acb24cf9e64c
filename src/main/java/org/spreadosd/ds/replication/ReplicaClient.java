package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.replication.ReplicaProtocol.Digests;
import org.spreadosd.ds.replication.ReplicaProtocol.InventoryPage;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/** A DS's side of {@link ReplicaProtocol}: asks a peer about its log and inventory, and copies versions from it. */
public final class ReplicaClient implements ReplicaPeers {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** What a copy from a peer did. */
    public enum Copied {
        COPIED,
        ALREADY_HERE,
        DELETED_HERE,
        NOT_ON_PEER
    }

    private final Http http;
    private final Materializer mat;
    private final BlobStreamClient blobs;
    private final DataStore store;
    private final Executor blocking;

    public ReplicaClient(ActorSystem<?> system, BlobStreamClient blobs, DataStore store, Executor blocking) {
        this.http = Http.get(system);
        this.mat = Materializer.matFromSystem(system);
        this.blobs = blobs;
        this.store = store;
        this.blocking = blocking;
    }

    @Override
    public CompletionStage<LogBatch> log(String dataUrl, int rsid, ReplicaProtocol.Position from, int max) {
        String query = from == null ? "?max=" + max : "?log=" + from.logId() + "&from=" + from.offset() + "&max=" + max;
        return get(dataUrl + ReplicaProtocol.LOG + rsid + query, LogBatch.class);
    }

    @Override
    public CompletionStage<InventoryPage> inventory(String dataUrl, int rsid, String after, int max) {
        String query =
                "?max=" + max + (after == null ? "" : "&after=" + URLEncoder.encode(after, StandardCharsets.UTF_8));
        return get(dataUrl + ReplicaProtocol.INVENTORY + rsid + query, InventoryPage.class);
    }

    @Override
    public CompletionStage<Digests> digests(String dataUrl, int rsid) {
        return get(dataUrl + ReplicaProtocol.DIGEST + rsid, Digests.class);
    }

    @Override
    public CompletionStage<InventoryPage> bucket(String dataUrl, int rsid, String bucket) {
        return get(dataUrl + ReplicaProtocol.BUCKET + rsid + "/" + bucket, InventoryPage.class);
    }

    /**
     * Copies one version from a peer unless this DS holds it or deleted it. The copy's checksum must match
     * the one the peer announced before the copy is renamed into place, so a copy damaged on the way never
     * becomes visible here or enters the update log.
     */
    @Override
    public CompletionStage<Copied> copy(String dataUrl, int rsid, byte[] key, long vtime) {
        return CompletableFuture.supplyAsync(
                        () -> {
                            if (store.isDeleted(rsid, key, vtime)) {
                                return Copied.DELETED_HERE;
                            }
                            try {
                                return store.find(rsid, key, vtime).isPresent() ? Copied.ALREADY_HERE : null;
                            } catch (IOException e) {
                                return null; // an unreadable copy here is replaced below
                            } catch (SpreadFailure e) {
                                if (e.code() != FailureCode.CORRUPT) {
                                    throw e;
                                }
                                return null; // a damaged copy here is replaced below, once quarantined by whoever found
                                // it
                            }
                        },
                        blocking)
                .thenCompose(known -> known != null
                        ? CompletableFuture.completedFuture(known)
                        : blobs.get(dataUrl, rsid, vtime, key, 0, Long.MAX_VALUE)
                                .thenCompose(found -> {
                                    if (found.isEmpty()) {
                                        return CompletableFuture.completedFuture(Copied.NOT_ON_PEER);
                                    }
                                    var download = found.get();
                                    InputStream in = download.body().inputStream(TIMEOUT, mat);
                                    return CompletableFuture.supplyAsync(
                                            () -> {
                                                try (in) {
                                                    store.write(
                                                            rsid,
                                                            key,
                                                            vtime,
                                                            download.facts().contentType(),
                                                            in,
                                                            download.length(),
                                                            download.facts().crc32c());
                                                    return Copied.COPIED;
                                                } catch (SpreadFailure refused) {
                                                    return switch (refused.code()) {
                                                        case CORRUPT ->
                                                            throw new SpreadFailure(
                                                                    FailureCode.UNAVAILABLE,
                                                                    "copy of vtime " + vtime + " from " + dataUrl
                                                                            + " does not match its checksum");
                                                        case ALREADY_STORED, DELETED ->
                                                            store.isDeleted(rsid, key, vtime)
                                                                    ? Copied.DELETED_HERE
                                                                    : Copied.ALREADY_HERE;
                                                        default -> throw refused;
                                                    };
                                                } catch (IOException e) {
                                                    throw new UncheckedIOException(e);
                                                }
                                            },
                                            blocking);
                                }));
    }

    private <T> CompletionStage<T> get(String url, Class<T> type) {
        return http.singleRequest(HttpRequest.GET(url))
                .thenCompose(response -> response.entity()
                        .toStrict(TIMEOUT.toMillis(), mat)
                        .thenApply(strict -> {
                            if (response.status().intValue() != 200) {
                                throw new SpreadFailure(
                                        FailureCode.UNAVAILABLE,
                                        url + " answered " + response.status().intValue() + ": "
                                                + strict.getData().utf8String());
                            }
                            try {
                                return ReplicaProtocol.JSON.readValue(
                                        strict.getData().toArray(), type);
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        }));
    }
}
