package org.spreadosd.ds;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;
import org.spreadosd.ds.BlobStreamClient.BlobFacts;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * What a DS does with the versions it holds, whoever asks: the byte-stream HTTP server ({@link BlobStreamServer})
 * for gateways and peers in other processes, and, through {@link #link()}, a gateway in this same process,
 * which then stores and reads without an HTTP round trip over loopback.
 */
public final class BlobService {
    private static final Logger log = LoggerFactory.getLogger(BlobService.class);
    /**
     * Versions up to this size are read whole, in one pass that also checks the checksum, and travel as one
     * buffer: for small objects a stream's set-up costs more than the bytes. The bound keeps a read's memory
     * independent of the object's size.
     */
    static final long READ_WHOLE_BYTES = 128 * 1024;

    static final int CHUNK = 64 * 1024;
    /** How much of a refused oversized upload is read and dropped so that the sender sees the 413. */
    private static final long REFUSAL_DRAIN_LIMIT = 64L << 20;

    private final DataStore store;
    private final Executor disk;
    private final BlobWriter writer;
    private final Materializer mat;
    private final CopyFanOut coordinator;
    private final Consumer<VersionId> onCorrupt;
    private final long verifyBeforeSendBytes;

    /**
     * @param coordinator copies coordinated adds to the set's other members; null on a DS that never coordinates
     * @param onCorrupt told of every damaged version found while serving, to repair it from a peer
     * @param verifyBeforeSendBytes versions up to this size are checked against their checksum before the
     *     first byte goes out, so a reader falls back to another member instead of getting damaged bytes
     */
    public BlobService(
            DataStore store,
            Executor disk,
            Materializer mat,
            Duration uploadIdleTimeout,
            CopyFanOut coordinator,
            Consumer<VersionId> onCorrupt,
            long verifyBeforeSendBytes) {
        this.store = store;
        this.disk = disk;
        this.writer = new BlobWriter(store, disk, mat, uploadIdleTimeout);
        this.mat = mat;
        this.coordinator = coordinator;
        this.onCorrupt = onCorrupt;
        this.verifyBeforeSendBytes = verifyBeforeSendBytes;
    }

    /**
     * Stores a version durably and, when this member coordinates the add, copies it to the set's other
     * members; answers what was stored and how many members hold it.
     *
     * @param expectedCrc the CRC-32C its sender announced (a coordinator's copy), or null: bytes that do not match
     *     it are refused ({@link FailureCode#CORRUPT}) before the version enters the store or the update log
     */
    public CompletionStage<BlobFacts> put(
            VersionId v, String contentType, BlobBody body, boolean coordinate, Integer expectedCrc) {
        long expected = body.size();
        if (expected > store.maxObjectBytes()) {
            return refuseTooLarge(body, expected);
        }
        CompletionStage<StoredBlob> stored = coordinate
                ? CompletableFuture.supplyAsync(() -> held(v), disk)
                        .thenCompose(held -> held.isPresent()
                                ? sameBytes(v, body, held.get())
                                : write(v, contentType, body, expectedCrc))
                : write(v, contentType, body, expectedCrc);
        return stored.thenCompose(blob -> (coordinate && coordinator != null
                        ? coordinator.replicate(v, blob)
                        : CompletableFuture.completedFuture(1))
                .thenApply(copies -> new BlobFacts(
                        blob.size(), blob.header().crc32c(), blob.header().contentType(), copies)));
    }

    private CompletionStage<StoredBlob> write(VersionId v, String contentType, BlobBody body, Integer expectedCrc) {
        return writer.write(v, contentType, body, expectedCrc).thenApply(blob -> {
            log.debug("stored {} size={}", v, blob.size());
            return blob;
        });
    }

    private Optional<StoredBlob> held(VersionId v) {
        try {
            return store.find(v);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A coordinated add of a version this member already holds: a gateway whose first coordinator was lost before
     * it answered sends the same vtime here, and the lost one may have copied it over first. Identical bytes are
     * the version this add meant to store, so coordinating goes on from the stored copy; anything else stays a
     * conflict. The bytes are checked as they stream past, never gathered.
     */
    private CompletionStage<StoredBlob> sameBytes(VersionId v, BlobBody body, StoredBlob held) {
        CRC32C crc = new CRC32C();
        long[] size = {0};
        return body.source()
                .runForeach(
                        chunk -> {
                            crc.update(chunk.asByteBuffer());
                            size[0] += chunk.size();
                        },
                        mat)
                .thenApply(done -> {
                    if (size[0] != held.size() || held.header().crc32c() != (int) crc.getValue()) {
                        throw new SpreadFailure(
                                FailureCode.ALREADY_STORED,
                                "version " + v.vtime() + " of " + Keys.printable(v.key())
                                        + " is already stored with other bytes");
                    }
                    log.info("coordinating an add already held {}", v);
                    return held;
                });
    }

    /**
     * Fails an upload declared larger than this store takes. Closing a connection with the body still
     * arriving can make the sender's TCP stack reset it before it reads the answer, so a gateway would see a
     * dead peer (503) instead of the refusal: a modest excess is read and dropped first (a lingering close),
     * a huge one is cut off at once.
     */
    private CompletionStage<BlobFacts> refuseTooLarge(BlobBody body, long declared) {
        SpreadFailure refusal = DataStore.tooLarge(declared, store.maxObjectBytes());
        if (body.isWhole() || declared - store.maxObjectBytes() > REFUSAL_DRAIN_LIMIT) {
            body.discard(mat);
            return CompletableFuture.failedFuture(refusal);
        }
        return body.stream().runWith(Sink.ignore(), mat).handle((done, e) -> {
            throw refusal;
        });
    }

    /** {@code length} bytes from {@code offset} (both cut to the version's size); empty when the version is not here. */
    public CompletionStage<Optional<BlobDownload>> get(VersionId v, long offset, long length) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        Optional<DataStore.Loaded> found = store.load(v, READ_WHOLE_BYTES);
                        if (found.isEmpty()) {
                            return Optional.<BlobDownload>empty();
                        }
                        StoredBlob blob = found.get().blob();
                        byte[] body = found.get().body();
                        if (body == null && blob.size() <= verifyBeforeSendBytes) {
                            store.verify(blob);
                        }
                        long start = Math.min(offset, blob.size());
                        long sliceLength = Math.min(length, blob.size() - start);
                        BlobFacts facts = new BlobFacts(
                                blob.size(),
                                blob.header().crc32c(),
                                blob.header().contentType(),
                                1);
                        if (body != null) {
                            return Optional.of(new BlobDownload(
                                    facts,
                                    BlobBody.of(ByteString.fromArrayUnsafe(body, (int) start, (int) sliceLength))));
                        }
                        return Optional.of(new BlobDownload(
                                facts, BlobBody.streaming(source(store, blob, start, sliceLength), sliceLength)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                disk);
    }

    /** Deletes the version (leaving its tombstone); answers whether bytes were here. */
    public CompletionStage<Boolean> delete(VersionId v) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return store.delete(v);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                },
                disk);
    }

    /** The bytes of a slice of a stored version, read on the disk dispatcher as the stream asks for them. */
    public static Source<ByteString, ?> source(DataStore store, StoredBlob blob, long offset, long length) {
        return StreamConverters.fromInputStream(() -> store.open(blob, offset, length), CHUNK)
                .withAttributes(ActorAttributes.dispatcher(DataStore.DISPATCHER));
    }

    /**
     * What a failed request of this DS answers with, after logging it once and handing a damaged version to the
     * repairer.
     */
    SpreadFailure failureOf(VersionId v, Throwable e) {
        SpreadFailure f = SpreadFailure.unwrap(e);
        switch (f.code()) {
            case CORRUPT -> {
                log.error("corrupt blob {}: {}", v, f.getMessage());
                onCorrupt.accept(v);
            }
            case STORE_FULL -> {
                if (f.getCause() instanceof IOException) {
                    // the disk filled under a write: give up the held-back space now rather than at the next look
                    log.warn("store full while writing {}: {}", v, f.getMessage());
                    disk.execute(store.space()::check);
                } else {
                    // under the reserve: StoreSpace logged the state once, the gateway logs each refused add
                    log.debug("add refused {}: {}", v, f.getMessage());
                }
            }
            case UNAVAILABLE, PEER_LOST -> log.warn("blob request failed {}: {}", v, f.getMessage());
            case INTERNAL -> log.error("blob request failed unexpectedly {}", v, f.getCause());
            default -> {}
        }
        return f;
    }

    /**
     * This DS as a gateway in the same process sees it: the same operations and the same failures (the code a remote
     * gateway would be given, {@link FailureCode#acrossLink}) without the HTTP hop.
     */
    public BlobLink link() {
        return new BlobLink() {
            @Override
            public CompletionStage<BlobFacts> put(VersionId v, String contentType, BlobBody body, boolean coordinate) {
                return asClientSees(v, BlobService.this.put(v, contentType, body, coordinate, null));
            }

            @Override
            public CompletionStage<Optional<BlobDownload>> get(VersionId v, long offset, long length) {
                return asClientSees(v, BlobService.this.get(v, offset, length));
            }

            @Override
            public CompletionStage<Boolean> delete(VersionId v) {
                return asClientSees(v, BlobService.this.delete(v));
            }
        };
    }

    private <T> CompletionStage<T> asClientSees(VersionId v, CompletionStage<T> result) {
        return result.handle((value, e) -> {
            if (e == null) {
                return value;
            }
            SpreadFailure f = failureOf(v, e);
            throw f.acrossLink("local data server answered " + f.httpStatus() + ": ");
        });
    }
}
