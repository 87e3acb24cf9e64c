package org.spreadosd.gw.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;
import org.spreadosd.ds.BlobStreamClient.BlobFacts;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.StoredBlob;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.PathCodec;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;
import org.spreadosd.model.VersionRecord;

/**
 * {@code GET /direct/<rsid>/<vtime>/<key>}: one version's bytes straight from this node's own store,
 * without asking the metadata store. Only a data server has a store; a pure gateway answers 404.
 */
public final class DirectEndpoint {
    private final DataStore store;
    private final Executor disk;

    /**
     * @param store this node's data store, or null on a gateway without one
     * @param disk where calls into the store run (the disk dispatcher)
     */
    public DirectEndpoint(DataStore store, Executor disk) {
        this.store = store;
        this.disk = disk;
    }

    CompletionStage<HttpResponse> read(HttpRequest request, String rest) {
        String[] parts = rest.split("/", 3);
        if (parts.length < 3 || parts[2].isEmpty()) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "use /direct/<rsid>/<vtime>/<key>");
        }
        int rsid;
        long vtime;
        try {
            rsid = Integer.parseInt(parts[0]);
            vtime = Long.parseLong(parts[1]);
        } catch (NumberFormatException e) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST, "rsid and vtime in /direct/<rsid>/<vtime>/<key> must be integers");
        }
        byte[] key;
        try {
            key = PathCodec.decode(parts[2], false);
        } catch (IllegalArgumentException e) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "malformed key in path: " + e.getMessage());
        }
        if (store == null) {
            throw new SpreadFailure(FailureCode.NOT_FOUND, "this node stores no data; ask a data server");
        }
        return CompletableFuture.supplyAsync(
                        () -> {
                            try {
                                return store.find(new VersionId(rsid, key, vtime));
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        },
                        disk)
                .thenCompose((Optional<StoredBlob> found) -> {
                    if (found.isEmpty()) {
                        throw new SpreadFailure(
                                FailureCode.NOT_FOUND,
                                "rsid=" + rsid + " vtime=" + vtime + " key=" + Keys.printable(key)
                                        + " not stored here");
                    }
                    StoredBlob blob = found.get();
                    var facts = new VersionResponses.VersionFacts(
                            blob.size(),
                            VersionRecord.etag(vtime, blob.header().crc32c()),
                            vtime,
                            blob.header().contentType(),
                            rsid);
                    return VersionResponses.serve(
                            request,
                            facts,
                            (offset, length) -> CompletableFuture.completedFuture(new BlobDownload(
                                    new BlobFacts(
                                            blob.size(),
                                            blob.header().crc32c(),
                                            blob.header().contentType(),
                                            1),
                                    BlobBody.streaming(BlobService.source(store, blob, offset, length), length))));
                });
    }
}
