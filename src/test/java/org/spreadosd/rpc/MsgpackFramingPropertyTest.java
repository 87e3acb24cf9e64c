package org.spreadosd.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageFormatException;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageSizeException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.quicktheories.api.Pair;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import org.spreadosd.edge.BudgetReservation;
import org.spreadosd.edge.ClientBufferBudget;
import org.spreadosd.edge.ClientLimits;

/**
 * The MessagePack-RPC framing, differential against msgpack-core's own {@link MessageUnpacker}: random
 * MessagePack streams (every format, in every header width), mutated ones and random bytes, cut into chunks at
 * random points, must come out as the same messages, found incomplete or malformed at the same place, by
 * {@link MsgpackFrames} alone and by a connection's {@link ConnectionPipeline} with a random budget.
 *
 * <p>A failure names its values and "Seed was N"; the same examples come again with
 * {@code mvn -B verify -Dtest=MsgpackFramingPropertyTest#<property> -DQT_SEED=N} (Surefire hands -D on to the tests).
 */
class MsgpackFramingPropertyTest {
    private static final ActorSystem system = ActorSystem.create("framing-property");
    private static final Materializer mat = Materializer.createMaterializer(system);
    private static final ExecutorService calls = Executors.newFixedThreadPool(4);
    private static final ByteString REFUSED = ByteString.fromString("refused");
    /** No idle timeout and no minimum rate within a property's run. */
    private static final ClientLimits.Port PATIENT =
            new ClientLimits.Port(1, 1, Duration.ofHours(1), null, 0, Duration.ofHours(1));

    @AfterAll
    static void stop() {
        calls.shutdownNow();
        system.terminate();
    }

    /** The largest message of these properties: what the server's maximum message size is to a connection. */
    static final long MAX_MESSAGE = 1L << 30;

    enum End {
        /** Every byte belongs to a complete message. */
        COMPLETE,
        /** The stream ends inside a message. */
        INCOMPLETE,
        /** A byte that is no MessagePack type. */
        MALFORMED,
        /** A message declares more than the maximum (msgpack-core: more than 2^31 - 1, more than an int). */
        TOO_LARGE,
        /** A message nests deeper or holds more values than allowed. */
        REFUSED
    }

    /** The messages a stream holds, in order, and how it ends. */
    record Outcome(List<ByteString> messages, End end) {}

    /** What msgpack-core makes of the stream as a whole. */
    static Outcome reference(byte[] stream) {
        List<ByteString> messages = new ArrayList<>();
        try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(stream)) {
            long start = 0;
            while (unpacker.hasNext()) {
                try {
                    skip(unpacker);
                } catch (MessageInsufficientBufferException e) {
                    return new Outcome(messages, End.INCOMPLETE);
                } catch (MessageSizeException e) {
                    return new Outcome(messages, End.TOO_LARGE);
                } catch (MessageFormatException e) {
                    return new Outcome(messages, End.MALFORMED);
                }
                long end = unpacker.getTotalReadBytes();
                messages.add(ByteString.fromArray(stream, (int) start, (int) (end - start)));
                start = end;
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return new Outcome(messages, End.COMPLETE);
    }

    /**
     * One value, containers walked by their headers: msgpack-core's own skipValue adds a map32's count times two
     * in an int, so a map declaring 2^30 or more entries would end at once (an overflow, not our concern).
     */
    private static void skip(MessageUnpacker unpacker) throws IOException {
        MessageFormat format = unpacker.getNextFormat();
        switch (format.getValueType()) {
            case ARRAY -> {
                long n = unpacker.unpackArrayHeader();
                for (long i = 0; i < n; i++) {
                    skip(unpacker);
                }
            }
            case MAP -> {
                long n = unpacker.unpackMapHeader();
                for (long i = 0; i < 2 * n; i++) {
                    skip(unpacker);
                }
            }
            default -> unpacker.skipValue();
        }
    }

    /** The server's framing loop over the chunks as they arrive, without limits beyond the size. */
    static Outcome framed(List<ByteString> chunks) {
        return framed(chunks, Integer.MAX_VALUE, Long.MAX_VALUE);
    }

    /** The server's framing loop: one scanner fed each chunk once, where the message it is in left off. */
    static Outcome framed(List<ByteString> chunks, int maxDepth, long maxElements) {
        List<ByteString> messages = new ArrayList<>();
        MsgpackFrames.Scanner scanner = new MsgpackFrames.Scanner(MAX_MESSAGE, maxDepth, maxElements);
        ByteString assembly = ByteString.emptyByteString();
        for (ByteString chunk : chunks) {
            ByteBuffer bytes = chunk.asByteBuffer();
            int from = 0;
            try {
                while (from < chunk.size()) {
                    int end = scanner.feed(bytes, from);
                    if (end < 0) {
                        assembly = assembly.concat(chunk.drop(from));
                        break;
                    }
                    messages.add(assembly.concat(chunk.slice(from, end)));
                    assembly = ByteString.emptyByteString();
                    scanner.reset();
                    from = end;
                }
            } catch (MsgpackFrames.TooLargeException e) {
                return new Outcome(messages, End.TOO_LARGE);
            } catch (MsgpackFrames.RefusedException e) {
                return new Outcome(messages, End.REFUSED);
            } catch (MsgpackFrames.MalformedStreamException e) {
                return new Outcome(messages, End.MALFORMED);
            }
        }
        return new Outcome(messages, assembly.isEmpty() ? End.COMPLETE : End.INCOMPLETE);
    }

    /** How deep a complete message nests (its own array is 1) and how many values it holds, by msgpack-core. */
    record Shape(int depth, long values) {}

    static Shape shape(ByteString message) throws IOException {
        try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(message.toArray())) {
            long[] values = new long[1];
            int depth = shape(unpacker, 0, values);
            return new Shape(depth, values[0]);
        }
    }

    private static int shape(MessageUnpacker unpacker, int level, long[] values) throws IOException {
        values[0]++;
        MessageFormat format = unpacker.getNextFormat();
        long n;
        switch (format.getValueType()) {
            case ARRAY -> n = unpacker.unpackArrayHeader();
            case MAP -> n = 2 * (long) unpacker.unpackMapHeader();
            default -> {
                unpacker.skipValue();
                return level;
            }
        }
        int deepest = level + 1;
        for (long i = 0; i < n; i++) {
            deepest = Math.max(deepest, shape(unpacker, level + 1, values));
        }
        return deepest;
    }

    /**
     * With a nesting and a value limit, the framing passes every message within both unchanged and refuses the first
     * beyond either: an over-limit message never reaches the decoder, whatever the chunks.
     */
    @Test
    void theFirstMessageBeyondTheNestingOrValueLimitIsRefused() {
        qt().withExamples(2000)
                .forAll(streams(), cuts(), integers().between(1, 4), integers().between(1, 40))
                .checkAssert((stream, cuts, maxDepth, maxElements) -> {
                    try {
                        limitsAgree(stream, cuts, maxDepth, maxElements);
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                });
    }

    private static void limitsAgree(byte[] stream, List<Integer> cuts, int maxDepth, int maxElements)
            throws IOException {
        Outcome unlimited = reference(stream);
        Outcome limited = framed(chunks(stream, cuts), maxDepth, maxElements);
        List<ByteString> within = new ArrayList<>();
        boolean beyond = false;
        for (ByteString m : unlimited.messages()) {
            Shape shape = shape(m);
            if (shape.depth() > maxDepth || shape.values() > maxElements) {
                beyond = true;
                break;
            }
            within.add(m);
        }
        if (beyond) {
            assertEquals(hex(within), hex(limited.messages()), "the messages before the first beyond a limit");
            assertEquals(End.REFUSED, limited.end(), "the first message beyond a limit is refused");
        } else {
            // Every complete message is within the limits; an unfinished tail may be refused from what it shows.
            assertEquals(hex(within), hex(limited.messages()));
            if (unlimited.end() == End.COMPLETE) {
                assertEquals(End.COMPLETE, limited.end());
            }
        }
    }

    @Test
    void decodingWithSlicesAgreesWithMsgpackCore() {
        qt().withExamples(1000).forAll(longs().all(), cuts()).checkAssert((seed, cuts) -> {
            Random r = new Random(seed);
            // random values, then a request whose raws are all long enough to be slices
            byte[] stream = concat(values(r), largeRaws(r));
            // each message as the reads that brought it (decoded from its parts) and as one array
            for (ByteString message : framed(chunks(stream, cuts)).messages()) {
                Value expected;
                try {
                    expected = unpack(message.toArray());
                } catch (IOException | RuntimeException undecodable) {
                    // a framed message msgpack-core cannot decode (a malformed timestamp): neither can we
                    assertThrows(Exception.class, () -> MessageValues.decode(message));
                    continue;
                }
                assertSame(expected, decode(message));
                assertSame(expected, decode(message.compact()));
            }
        });
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code [0, 1, "add", [bin16, bin32, {str16: str32}]]}, each raw of 4 KiB to 40 KiB. */
    private static byte[] largeRaws(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x94, 0, 1, (byte) 0xa3, 'a', 'd', 'd', (byte) 0x93});
        int[] tags = {0xc5, 0xc6, 0x81, 0xda, 0xdb};
        for (int tag : tags) {
            out.write(tag);
            if (tag == 0x81) {
                continue;
            }
            int len = MessageValues.SLICED_BYTES + r.nextInt(36 << 10);
            length(out, len, tag == 0xc5 || tag == 0xda ? 2 : 4);
            random(r, out, len);
        }
        return out.toByteArray();
    }

    private static Value unpack(byte[] message) throws IOException {
        try (MessageUnpacker u = MessagePack.newDefaultUnpacker(message)) {
            return u.unpackValue();
        }
    }

    private static Value decode(ByteString message) {
        try {
            return MessageValues.decode(message);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The same values, raws with the same bytes (slices or not), encoded alike. */
    private static void assertSame(Value expected, Value actual) {
        assertEquals(expected.getValueType(), actual.getValueType());
        if (expected.isRawValue()) {
            assertEquals(
                    HexFormat.of().formatHex(expected.asRawValue().asByteArray()),
                    HexFormat.of().formatHex(actual.asRawValue().asByteArray()));
            ByteBuffer buffer = actual.asRawValue().asByteBuffer();
            assertEquals(expected.asRawValue().asByteArray().length, buffer.remaining());
            if (SlicedRaw.slice(actual) != null) {
                assertTrue(expected.asRawValue().asByteArray().length >= MessageValues.SLICED_BYTES);
            }
        } else if (expected.isArrayValue()) {
            List<Value> want = expected.asArrayValue().list();
            List<Value> got = actual.asArrayValue().list();
            assertEquals(want.size(), got.size());
            for (int i = 0; i < want.size(); i++) {
                assertSame(want.get(i), got.get(i));
            }
        } else if (expected.isMapValue()) {
            Value[] want = expected.asMapValue().getKeyValueArray();
            Value[] got = actual.asMapValue().getKeyValueArray();
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                assertSame(want[i], got[i]);
            }
        }
        // scalars by their encoding (NaN is not equal to itself)
        assertEquals(HexFormat.of().formatHex(encoded(expected)), HexFormat.of().formatHex(encoded(actual)));
    }

    private static byte[] encoded(Value v) {
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packValue(v);
            return p.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void framingAgreesWithMsgpackCore() {
        qt().withExamples(2000).forAll(streams(), cuts()).checkAssert(MsgpackFramingPropertyTest::framingAgrees);
    }

    private static void framingAgrees(byte[] stream, List<Integer> cuts) {
        Outcome expected = reference(stream);
        Outcome actual = framed(chunks(stream, cuts));
        assertEquals(hex(expected.messages()), hex(actual.messages()));
        if (actual.end() == End.TOO_LARGE) {
            // refused from its header: a message msgpack-core could not read whole from this stream either
            assertTrue(expected.end() != End.COMPLETE, "refused a message msgpack-core read whole");
        } else {
            assertEquals(expected.end(), actual.end());
        }
    }

    @Test
    void aConnectionRunsEveryCompleteMessageWithinItsBudget() {
        qt().withExamples(500)
                .forAll(
                        streams(),
                        cuts(),
                        integers().between(1, 4096),
                        integers().between(1, 8))
                .checkAssert((stream, cuts, budget, maxCalls) -> {
                    try {
                        connectionAgrees(stream, cuts, budget, maxCalls);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
    }

    /**
     * With a node budget barely larger than one read, a connection never waits for itself: it ends, every complete
     * message is answered unless one is refused for the budget (then only messages before it are), and everything it
     * reserved is given back.
     */
    @Test
    void aConnectionOnASmallNodeBudgetEndsAndGivesEverythingBack() {
        qt().withExamples(500)
                .forAll(
                        streams(),
                        cuts(),
                        integers().between(0, 4096),
                        integers().between(1, 8))
                .checkAssert((stream, cuts, extra, maxCalls) -> {
                    try {
                        smallNodeBudget(stream, cuts, extra, maxCalls);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
    }

    /**
     * The case the property above is about, by hand: a 12-byte message whose declaration takes the whole node budget
     * of 12 bytes, and a read that brings its last 10 bytes and the first byte of the next message.
     */
    @Test
    void aReadRunningPastAMessageThatFillsTheNodeBudgetDoesNotWaitForItself() throws Exception {
        byte[] stream = new byte[13];
        stream[0] = (byte) 0xc4;
        stream[1] = 10;
        stream[12] = 0x01;
        smallNodeBudget(stream, List.of(2), 0, 1);
    }

    /**
     * Found by the property: a message refused for the budget while part of its last read still waited for room;
     * that part was then framed as if it began a message, and answered with a second refusal.
     */
    @Test
    void nothingAfterAMessageRefusedForTheBudgetIsRead() throws Exception {
        smallNodeBudget(HexFormat.of().parseHex("dd00000001ca0c924fc4"), List.of(0, 2), 0, 1);
    }

    private static void smallNodeBudget(byte[] stream, List<Integer> cuts, int extra, int maxCalls) throws Exception {
        List<ByteString> chunks = chunks(stream, cuts);
        Outcome expected = framed(chunks);
        long largestChunk = chunks.stream().mapToLong(ByteString::size).max().orElse(0);
        ClientBufferBudget nodeBudget = new ClientBufferBudget(largestChunk + extra + 1);
        ConnectionPipeline.Calls echo = new ConnectionPipeline.Calls() {
            @Override
            public CompletionStage<ConnectionPipeline.Answer> run(ByteString message) {
                return CompletableFuture.supplyAsync(
                        () -> {
                            // an answer whose bytes the call reserved itself (a get's data), when they fit: the
                            // connection takes the reservation over, or it is given back if the connection is gone
                            BudgetReservation r = BudgetReservation.tryReserve(nodeBudget, message.size());
                            return new ConnectionPipeline.Answer(message, r == null ? List.of() : List.of(r));
                        },
                        calls);
            }

            @Override
            public ByteString refusal(ByteString head, MsgpackFrames.RefusedException e) {
                return REFUSED;
            }

            @Override
            public void closing(MsgpackFrames.MalformedStreamException e) {}

            @Override
            public void idle(Duration timeout) {}

            @Override
            public void evicted(String why) {}
        };
        CompletableFuture<List<ByteString>> out = Source.from(chunks)
                .via(new ConnectionPipeline(
                        echo,
                        maxCalls,
                        MAX_MESSAGE,
                        Integer.MAX_VALUE,
                        Long.MAX_VALUE,
                        Long.MAX_VALUE,
                        largestChunk,
                        new RpcConnectionStats(Long.MAX_VALUE),
                        nodeBudget,
                        PATIENT))
                .runWith(Sink.seq(), mat)
                .toCompletableFuture();
        List<ByteString> answers;
        try {
            answers = out.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException malformed) {
            answers = null;
        }
        if (answers != null && expected.end() != End.MALFORMED) {
            List<String> got = new ArrayList<>(hex(answers));
            boolean refused = got.remove(HexFormat.of().formatHex(REFUSED.toArray()));
            List<String> want = hex(expected.messages());
            if (refused) {
                assertTrue(want.containsAll(got), "only messages before the refused one are answered");
            } else {
                assertEquals(
                        want.stream().sorted().toList(), got.stream().sorted().toList());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (nodeBudget.used() != 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, nodeBudget.used(), "everything reserved from the node's budget released");
    }

    private static void connectionAgrees(byte[] stream, List<Integer> cuts, int budget, int maxCalls) throws Exception {
        // The framing agrees with msgpack-core (the property above); the pipeline must agree with the framing.
        List<ByteString> chunks = chunks(stream, cuts);
        Outcome expected = framed(chunks);
        long largestChunk = chunks.stream().mapToLong(ByteString::size).max().orElse(0);
        RpcConnectionStats stats = new RpcConnectionStats(budget);
        ClientBufferBudget nodeBudget = new ClientBufferBudget(Long.MAX_VALUE);
        List<ByteString> answered = new CopyOnWriteArrayList<>();
        ConnectionPipeline.Calls echo = new ConnectionPipeline.Calls() {
            @Override
            public CompletionStage<ConnectionPipeline.Answer> run(ByteString message) {
                return CompletableFuture.supplyAsync(
                        () -> {
                            answered.add(message);
                            return ConnectionPipeline.Answer.of(message);
                        },
                        calls);
            }

            @Override
            public ByteString refusal(ByteString head, MsgpackFrames.RefusedException e) {
                return REFUSED;
            }

            @Override
            public void closing(MsgpackFrames.MalformedStreamException e) {}

            @Override
            public void idle(Duration timeout) {}

            @Override
            public void evicted(String why) {}
        };
        CompletableFuture<List<ByteString>> out = Source.from(chunks)
                .via(new ConnectionPipeline(
                        echo,
                        maxCalls,
                        MAX_MESSAGE,
                        Integer.MAX_VALUE,
                        Long.MAX_VALUE,
                        budget,
                        largestChunk,
                        stats,
                        nodeBudget,
                        PATIENT))
                .runWith(Sink.seq(), mat)
                .toCompletableFuture();
        if (expected.end() == End.MALFORMED) {
            try {
                out.get(10, TimeUnit.SECONDS);
                throw new AssertionError("a malformed stream must end its connection with a failure");
            } catch (ExecutionException e) {
                assertInstanceOf(MsgpackFrames.MalformedStreamException.class, unwrap(e));
            }
            assertTrue(
                    hex(expected.messages()).containsAll(hex(answered)),
                    "only complete messages before the bad byte are run");
        } else {
            List<ByteString> answers = out.get(10, TimeUnit.SECONDS);
            List<ByteString> expectedAnswers = new ArrayList<>(expected.messages());
            if (expected.end() == End.TOO_LARGE) {
                // answered at once; the calls before it are still answered, then the connection closes
                expectedAnswers.add(REFUSED);
            }
            assertEquals(sortedHex(expectedAnswers), sortedHex(answers), "every complete message answered once");
        }
        // Beyond the budget only while one message (or the unfinished tail) is read alone, one chunk at a time.
        long largestMessage =
                expected.messages().stream().mapToLong(ByteString::size).max().orElse(0);
        long tail = stream.length
                - expected.messages().stream().mapToLong(ByteString::size).sum();
        long bound = Math.max(budget, Math.max(largestMessage, tail) + largestChunk);
        assertTrue(
                stats.getPeakHeldBytesPerConnection() <= bound,
                "held " + stats.getPeakHeldBytesPerConnection() + " bytes, the bound is " + bound);
        assertEquals(0, stats.getHeldBytes(), "nothing held once the connection is gone");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (nodeBudget.used() != 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, nodeBudget.used(), "everything reserved from the node's budget released");
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    static List<ByteString> chunks(byte[] stream, List<Integer> cuts) {
        int[] points = cuts.stream()
                .mapToInt(c -> stream.length == 0 ? 0 : c % (stream.length + 1))
                .sorted()
                .toArray();
        List<ByteString> chunks = new ArrayList<>();
        int from = 0;
        for (int p : points) {
            if (p > from) {
                chunks.add(ByteString.fromArray(stream, from, p - from));
                from = p;
            }
        }
        if (from < stream.length) {
            chunks.add(ByteString.fromArray(stream, from, stream.length - from));
        }
        return chunks;
    }

    static List<String> hex(List<ByteString> messages) {
        return messages.stream().map(m -> HexFormat.of().formatHex(m.toArray())).toList();
    }

    static List<String> sortedHex(List<ByteString> messages) {
        return hex(messages).stream().sorted().toList();
    }

    // ---- streams ----

    /** Up to six cut points anywhere in a stream (taken modulo its length). */
    static Gen<List<Integer>> cuts() {
        return lists().of(integers().between(0, 100_000)).ofSizeBetween(0, 6);
    }

    /** Well-formed streams, mutated ones and random bytes, 3 : 5 : 2. */
    static Gen<byte[]> streams() {
        Gen<byte[]> valid = longs().all().map(seed -> values(new Random(seed)));
        Gen<byte[]> mutated =
                valid.zip(lists().of(mutations()).ofSizeBetween(1, 4), MsgpackFramingPropertyTest::mutate);
        Gen<byte[]> random = Generate.byteArrays(integers().between(0, 64), anyByte());
        return Generate.frequency(Pair.of(3, valid), Pair.of(5, mutated), Pair.of(2, random))
                .describedAs(stream -> HexFormat.of().formatHex(stream));
    }

    static Gen<Byte> anyByte() {
        return Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0);
    }

    /** One change to a stream: a byte flipped, set, inserted or deleted, the stream cut, or a range doubled. */
    record Mutation(int kind, int position, byte value) {}

    static Gen<Mutation> mutations() {
        return integers().between(0, 5).zip(integers().between(0, Integer.MAX_VALUE), anyByte(), Mutation::new);
    }

    static byte[] mutate(byte[] stream, List<Mutation> mutations) {
        byte[] s = stream;
        for (Mutation m : mutations) {
            if (s.length == 0) {
                return new byte[] {m.value()};
            }
            int at = m.position() % s.length;
            s = switch (m.kind()) {
                case 0 -> flip(s, at, 1 << (m.value() & 7));
                case 1 -> set(s, at, m.value());
                case 2 -> insert(s, at, m.value());
                case 3 -> delete(s, at);
                case 4 -> Arrays.copyOf(s, at);
                default -> doubled(s, at, Math.min(s.length, at + 1 + (m.value() & 0x3f)));
            };
        }
        return s;
    }

    private static byte[] flip(byte[] s, int at, int bit) {
        byte[] out = s.clone();
        out[at] ^= (byte) bit;
        return out;
    }

    private static byte[] set(byte[] s, int at, byte value) {
        byte[] out = s.clone();
        out[at] = value;
        return out;
    }

    private static byte[] insert(byte[] s, int at, byte value) {
        byte[] out = new byte[s.length + 1];
        System.arraycopy(s, 0, out, 0, at);
        out[at] = value;
        System.arraycopy(s, at, out, at + 1, s.length - at);
        return out;
    }

    private static byte[] delete(byte[] s, int at) {
        byte[] out = new byte[s.length - 1];
        System.arraycopy(s, 0, out, 0, at);
        System.arraycopy(s, at + 1, out, at, s.length - at - 1);
        return out;
    }

    private static byte[] doubled(byte[] s, int from, int to) {
        byte[] out = new byte[s.length + (to - from)];
        System.arraycopy(s, 0, out, 0, to);
        System.arraycopy(s, from, out, to, s.length - from);
        return out;
    }

    /** One to four MessagePack values of random formats, header widths chosen at random too. */
    static byte[] values(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            value(r, out, 0);
        }
        return out.toByteArray();
    }

    private static void value(Random r, ByteArrayOutputStream out, int depth) {
        int kind = r.nextInt(depth >= 3 ? 8 : 14);
        switch (kind) {
            case 0 -> out.write(r.nextInt(0x80));
            case 1 -> out.write(0xe0 + r.nextInt(0x20));
            case 2 -> out.write(new int[] {0xc0, 0xc2, 0xc3}[r.nextInt(3)]);
            case 3 -> {
                int[] tags = {0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3};
                int[] sizes = {1, 2, 4, 8, 1, 2, 4, 8};
                int t = r.nextInt(tags.length);
                out.write(tags[t]);
                random(r, out, sizes[t]);
            }
            case 4 -> {
                boolean dbl = r.nextBoolean();
                out.write(dbl ? 0xcb : 0xca);
                random(r, out, dbl ? 8 : 4);
            }
            case 5 -> {
                int len = r.nextInt(32);
                out.write(0xa0 | len);
                random(r, out, len);
            }
            case 6 -> sized(r, out, new int[] {0xd9, 0xda, 0xdb});
            case 7 -> sized(r, out, new int[] {0xc4, 0xc5, 0xc6});
            case 8 -> {
                int count = r.nextInt(5);
                out.write(0x90 | count);
                children(r, out, depth, count);
            }
            case 9 -> {
                int count = r.nextInt(5);
                boolean wide = r.nextBoolean();
                out.write(wide ? 0xdd : 0xdc);
                length(out, count, wide ? 4 : 2);
                children(r, out, depth, count);
            }
            case 10 -> {
                int count = r.nextInt(3);
                out.write(0x80 | count);
                children(r, out, depth, 2 * count);
            }
            case 11 -> {
                int count = r.nextInt(3);
                boolean wide = r.nextBoolean();
                out.write(wide ? 0xdf : 0xde);
                length(out, count, wide ? 4 : 2);
                children(r, out, depth, 2 * count);
            }
            case 12 -> {
                int[] tags = {0xd4, 0xd5, 0xd6, 0xd7, 0xd8};
                int t = r.nextInt(tags.length);
                out.write(tags[t]);
                out.write(r.nextInt(256));
                random(r, out, 1 << t);
            }
            default -> {
                int width = 1 << r.nextInt(3);
                int len = r.nextInt(20);
                out.write(width == 1 ? 0xc7 : width == 2 ? 0xc8 : 0xc9);
                length(out, len, width);
                out.write(r.nextInt(256));
                random(r, out, len);
            }
        }
    }

    /** str or bin in the 8-, 16- or 32-bit length format; now and then a long one. */
    private static void sized(Random r, ByteArrayOutputStream out, int[] tags) {
        int width = r.nextInt(3);
        int len = r.nextInt(50) == 0 ? 200 + r.nextInt(width == 0 ? 56 : 70_000) : r.nextInt(40);
        out.write(tags[width]);
        length(out, len, 1 << width);
        random(r, out, len);
    }

    private static void children(Random r, ByteArrayOutputStream out, int depth, int count) {
        for (int i = 0; i < count; i++) {
            value(r, out, depth + 1);
        }
    }

    private static void length(ByteArrayOutputStream out, int n, int width) {
        for (int i = width - 1; i >= 0; i--) {
            out.write((n >>> (8 * i)) & 0xff);
        }
    }

    private static void random(Random r, ByteArrayOutputStream out, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        out.writeBytes(b);
    }
}
