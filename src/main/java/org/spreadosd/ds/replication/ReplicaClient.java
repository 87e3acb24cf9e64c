package org.spreadosd.ds.replication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobWriter;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.replication.ReplicaProtocol.Digests;
import org.spreadosd.ds.replication.ReplicaProtocol.InventoryPage;
import org.spreadosd.ds.replication.ReplicaProtocol.LogBatch;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/** A DS's side of {@link ReplicaProtocol}: asks a peer about its log and inventory, and copies versions from it. */
public final class ReplicaClient implements ReplicaPeers {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Http http;
    private final Materializer mat;
    private final BlobStreamClient blobs;
    private final DataStore store;
    private final Executor disk;
    private final BlobWriter writer;

    /** @param disk where the store's blocking calls run (the disk dispatcher) */
    public ReplicaClient(ActorSystem<?> system, BlobStreamClient blobs, DataStore store, Executor disk) {
        this.http = Http.get(system);
        this.mat = Materializer.matFromSystem(system);
        this.blobs = blobs;
        this.store = store;
        this.disk = disk;
        this.writer = new BlobWriter(store, disk, mat, TIMEOUT);
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
    public CompletionStage<Copied> copy(String dataUrl, VersionId v) {
        return CompletableFuture.supplyAsync(
                        () -> {
                            if (store.isDeleted(v)) {
                                return Copied.DELETED_HERE;
                            }
                            try {
                                return store.find(v).isPresent() ? Copied.ALREADY_HERE : null;
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
                        disk)
                .thenCompose(known -> known != null
                        ? CompletableFuture.completedFuture(known)
                        : blobs.get(dataUrl, v, 0, Long.MAX_VALUE).thenCompose(found -> {
                            if (found.isEmpty()) {
                                return CompletableFuture.completedFuture(Copied.NOT_ON_PEER);
                            }
                            var download = found.get();
                            return writer.write(
                                            v,
                                            download.facts().contentType(),
                                            download.body(),
                                            download.facts().crc32c())
                                    .handle((stored, e) -> {
                                        if (e == null) {
                                            return Copied.COPIED;
                                        }
                                        Throwable cause = SpreadFailure.cause(e);
                                        if (cause instanceof SpreadFailure refused) {
                                            return switch (refused.code()) {
                                                case CORRUPT ->
                                                    throw new SpreadFailure(
                                                            FailureCode.UNAVAILABLE,
                                                            "copy of vtime " + v.vtime() + " from " + dataUrl
                                                                    + " does not match its checksum");
                                                case ALREADY_STORED, DELETED ->
                                                    store.isDeleted(v) ? Copied.DELETED_HERE : Copied.ALREADY_HERE;
                                                default -> throw refused;
                                            };
                                        }
                                        if (cause instanceof IOException io) {
                                            throw new UncheckedIOException(io);
                                        }
                                        throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
                                    });
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
