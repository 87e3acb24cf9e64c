package org.spreadosd.ds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * Streamed bodies written chunk by chunk as they arrive keep every check of a write: the size limit without an
 * announced size, the announced size and checksum, tombstones, the idle timeout, a sender that fails; each leaves no
 * partial file, no stored version and no update-log record.
 */
class BlobWriterTest {
    private static final byte[] KEY = Keys.utf8("streamed");
    private static final long MAX = 1 << 20;

    @TempDir
    Path root;

    ActorTestKit kit;
    ExecutorService disk;
    DataStore store;
    BlobWriter writer;

    @BeforeEach
    void start() throws IOException {
        kit = ActorTestKit.create(
                ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
        disk = Executors.newFixedThreadPool(2);
        store = new DataStore(root, MAX);
        writer = new BlobWriter(store, disk, Materializer.matFromSystem(kit.system()), Duration.ofMillis(500));
    }

    @AfterEach
    void stop() {
        disk.shutdownNow();
        kit.shutdownTestKit();
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    /** The bytes as a stream of chunks of {@code chunk} bytes. */
    private static Source<ByteString, ?> chunks(byte[] data, int chunk) {
        return Source.range(0, (data.length - 1) / chunk)
                .map(i -> ByteString.fromArray(data, i * chunk, Math.min(chunk, data.length - i * chunk)));
    }

    private StoredBlob write(long vtime, BlobBody body, Integer crc) throws Exception {
        try {
            return writer.write(new VersionId(0, KEY, vtime), "application/x-test", body, crc)
                    .toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private void assertNothingStored(long vtime) throws IOException {
        assertTrue(store.find(new VersionId(0, KEY, vtime)).isEmpty());
        assertEquals(0, store.items());
        assertEquals(List.of(), store.updateLog(0).read(UpdateLog.start(), 10));
        try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
            assertEquals(List.of(), tmp.toList(), "no partial file is left");
        }
    }

    @Test
    void aStreamedBodyIsStoredWithItsChecksumAndLogged() throws Exception {
        byte[] data = bytes(900_000);
        CRC32C crc = new CRC32C();
        crc.update(data);
        StoredBlob blob = write(1, BlobBody.streaming(chunks(data, 1000), data.length), (int) crc.getValue());
        assertEquals(data.length, blob.size());
        assertEquals((int) crc.getValue(), blob.header().crc32c());
        try (var in = store.open(store.find(new VersionId(0, KEY, 1)).orElseThrow(), 0, data.length)) {
            assertArrayEquals(data, in.readAllBytes());
        }
        assertEquals(1, store.updateLog(0).read(UpdateLog.start(), 10).size());
    }

    @Test
    void aStreamOverTheLimitWithoutAnnouncedSizeIsRefused() throws Exception {
        assertFailure(
                FailureCode.TOO_LARGE,
                () -> write(2, BlobBody.streaming(chunks(bytes((int) MAX + 1), 64 * 1024), -1), null));
        assertNothingStored(2);
    }

    @Test
    void aStreamShorterThanAnnouncedIsRefused() throws Exception {
        IOException e = assertThrows(
                IOException.class, () -> write(3, BlobBody.streaming(chunks(bytes(1000), 100), 2000), null));
        assertTrue(e.getMessage().contains("1000 of 2000"), e.getMessage());
        assertNothingStored(3);
    }

    @Test
    void aStreamThatDoesNotMatchItsAnnouncedChecksumIsRefused() throws Exception {
        assertFailure(FailureCode.CORRUPT, () -> write(4, BlobBody.streaming(chunks(bytes(5000), 700), 5000), 42));
        assertNothingStored(4);
    }

    @Test
    void aStreamThatStopsSendingFailsAfterTheIdleTimeout() throws Exception {
        Source<ByteString, ?> stalls =
                Source.single(ByteString.fromArray(bytes(10))).concat(Source.never());
        Exception e = assertThrows(Exception.class, () -> write(5, BlobBody.streaming(stalls, -1), null));
        assertInstanceOf(TimeoutException.class, e, e::toString);
        assertNothingStored(5);
    }

    @Test
    void aSenderThatFailsLeavesNothing() throws Exception {
        Source<ByteString, ?> dies = chunks(bytes(3000), 1000).concat(Source.failed(new IOException("reset by peer")));
        IOException e = assertThrows(IOException.class, () -> write(6, BlobBody.streaming(dies, -1), null));
        assertEquals("reset by peer", e.getMessage());
        assertNothingStored(6);
    }

    @Test
    void aDeletedVersionIsRefusedAndItsStreamCancelled() throws Exception {
        store.delete(new VersionId(0, KEY, 7));
        AtomicBoolean cancelled = new AtomicBoolean();
        Source<ByteString, ?> body = Source.repeat(ByteString.fromArray(bytes(100)))
                .watchTermination((mat, done) -> {
                    done.whenComplete((d, failure) -> cancelled.set(true));
                    return mat;
                });
        assertFailure(FailureCode.DELETED, () -> write(7, BlobBody.streaming(body, -1), null));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cancelled.get() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(cancelled.get(), "the sender is not left waiting");
        try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
            assertEquals(List.of(), tmp.toList());
        }
    }

    static void assertFailure(FailureCode code, Executable write) {
        SpreadFailure e = assertThrows(SpreadFailure.class, write);
        assertEquals(code, e.code(), e::toString);
    }
}
