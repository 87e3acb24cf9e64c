package org.spreadosd.ds;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;
import org.spreadosd.ds.BlobStreamClient.BlobFacts;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/**
 * One data server as a gateway uses it, the same whether it runs in another process ({@link BlobStreamClient#to})
 * or in this one ({@link BlobService#link}). Failures are {@link SpreadFailure}s carrying the code the
 * gateway's client should see.
 */
public interface BlobLink {
    /**
     * Streams a version to the data server.
     *
     * @param coordinate whether that DS coordinates the add: it copies the version to the set's other
     *     members and answers once the set's write policy is met; a member given a copy stores just its own
     */
    CompletionStage<BlobFacts> put(VersionId v, String contentType, BlobBody body, boolean coordinate);

    /** Streams {@code length} bytes from {@code offset}; empty when the DS does not hold the version. */
    CompletionStage<Optional<BlobDownload>> get(VersionId v, long offset, long length);

    /** Answers whether the DS held bytes of the version; it keeps a tombstone either way. */
    CompletionStage<Boolean> delete(VersionId v);
}
