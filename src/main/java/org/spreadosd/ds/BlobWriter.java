package org.spreadosd.ds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.VersionId;

/**
 * Stores a {@link BlobBody} in a {@link DataStore} without a thread waiting for the network: a streamed body's
 * chunks are each written to the version's file on the disk executor as they arrive, then the version is
 * committed there ({@link PendingWrite}). A slow sender costs a file and a few buffers, never a thread.
 *
 * <p>Memory does not grow with the object: a chunk is written before the next is asked for, and chunks that
 * arrive while the disk is busy are gathered up to {@link #BATCH_BYTES} (and written with one call).
 */
public final class BlobWriter {
    /** The most bytes gathered from a stream while a write of its earlier chunks is still on the disk. */
    static final long BATCH_BYTES = 256 * 1024;

    private final DataStore store;
    private final Executor disk;
    private final Materializer mat;
    private final Duration idleTimeout;

    /** @param idleTimeout a stream that delivers no byte for this long fails, and its partial file goes */
    public BlobWriter(DataStore store, Executor disk, Materializer mat, Duration idleTimeout) {
        this.store = store;
        this.disk = disk;
        this.mat = mat;
        this.idleTimeout = idleTimeout;
    }

    /**
     * Stores one version and completes once it is durable and logged. Fails with the store's own failure, not
     * wrapped (a {@link SpreadFailure}: {@code TOO_LARGE}, {@code STORE_FULL} (the disk under its reserve),
     * {@code ALREADY_STORED}, {@code DELETED}, {@code CORRUPT}; an {@link IOException}), or with the stream's failure.
     *
     * @param expectedCrc the CRC-32C the sender announced, or null when it announced none
     */
    public CompletionStage<StoredBlob> write(VersionId v, String contentType, BlobBody body, Integer expectedCrc) {
        if (body.isWhole()) {
            return onDisk(() -> {
                try (PendingWrite pending = store.begin(v, contentType, body.size(), expectedCrc)) {
                    return appendAll(pending, body.bytes()).finish();
                }
            });
        }
        CompletableFuture<StoredBlob> stored = new CompletableFuture<>();
        onDisk(() -> store.begin(v, contentType, body.size(), expectedCrc)).whenComplete((pending, refused) -> {
            if (refused != null) {
                body.discard(mat);
                stored.completeExceptionally(refused);
                return;
            }
            body.stream()
                    .idleTimeout(idleTimeout)
                    .batchWeighted(BATCH_BYTES, chunk -> (long) chunk.size(), chunk -> chunk, ByteString::concat)
                    .runWith(Sink.foldAsync(pending, (p, chunk) -> append(p, chunk)), mat)
                    .thenCompose(p -> onDisk(p::finish))
                    .whenCompleteAsync(
                            (blob, failed) -> {
                                Throwable failure = failed;
                                try {
                                    pending.close();
                                } catch (IOException | RuntimeException e) {
                                    failure = failure != null ? failure : e;
                                }
                                if (failure != null) {
                                    stored.completeExceptionally(SpreadFailure.cause(failure));
                                } else {
                                    stored.complete(blob);
                                }
                            },
                            disk);
        });
        return stored;
    }

    private CompletableFuture<PendingWrite> append(PendingWrite pending, ByteString chunk) {
        return onDisk(() -> appendAll(pending, chunk));
    }

    private static PendingWrite appendAll(PendingWrite pending, ByteString bytes) throws IOException {
        for (ByteBuffer buffer : bytes.getByteBuffers()) {
            pending.append(buffer);
        }
        return pending;
    }

    /** What a step on the disk does; it may throw what the store throws. */
    private interface DiskStep<T> {
        T run() throws IOException;
    }

    /** Runs a step on the disk executor; its failure is the step's own exception, not wrapped. */
    private <T> CompletableFuture<T> onDisk(DiskStep<T> step) {
        CompletableFuture<T> done = new CompletableFuture<>();
        disk.execute(() -> {
            try {
                done.complete(step.run());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }
}
