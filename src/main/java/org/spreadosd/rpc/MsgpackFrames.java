package org.spreadosd.rpc;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.pekko.util.ByteString;

/**
 * Finds where MessagePack values end in a byte stream that has no other framing (rpc-api.md,
 * Transport). Only headers are read: a 256 MiB bin value costs the same to measure as a small one.
 * A {@link Scanner} keeps its place across reads, so each byte of a message is looked at once however
 * many reads it arrives in, and it refuses a message beyond its size, nesting or value limits from the
 * bytes that show it: what it passes, msgpack-core decodes without deep recursion or a huge allocation.
 */
public final class MsgpackFrames {
    /** Not a MessagePack value: the stream cannot be understood from here on. */
    public static class MalformedStreamException extends RuntimeException {
        public MalformedStreamException(String message) {
            super(message, null, false, false);
        }
    }

    /** A message beyond a limit (size, nesting, values, memory): refused from its first bytes, before it is decoded. */
    public static class RefusedException extends MalformedStreamException {
        public RefusedException(String message) {
            super(message);
        }
    }

    /** A message larger than the maximum: refused from its header, before its body is read. */
    public static final class TooLargeException extends RefusedException {
        public TooLargeException(String message) {
            super(message);
        }
    }

    /** The setting of {@link Scanner}'s size limit, named in its refusals. */
    public static final String MAX_MESSAGE_SIZE = "spreadosd.rpc.max-message-size";
    /** The setting of {@link Scanner}'s nesting limit, named in its refusals. */
    public static final String MAX_NESTING_DEPTH = "spreadosd.clients.rpc.max-nesting-depth";
    /** The setting of {@link Scanner}'s value limit, named in its refusals. */
    public static final String MAX_ELEMENTS = "spreadosd.clients.rpc.max-elements";

    private MsgpackFrames() {}

    /**
     * The length in bytes of the complete value at the start of {@code buf}, or -1 if more bytes are
     * needed to know it. A value larger than {@code maxBytes} is refused as soon as its size is known.
     */
    public static long firstValueLength(ByteString buf, long maxBytes) {
        return scanAll(buf, new Scanner(maxBytes, Integer.MAX_VALUE, Long.MAX_VALUE));
    }

    /** Feeds the parts of {@code buf} as they are (no copy) until its first value ends: that value's length, or -1. */
    private static long scanAll(ByteString buf, Scanner scanner) {
        long offset = 0;
        for (ByteBuffer part : buf.getByteBuffers()) {
            int end = scanner.feed(part, part.position());
            if (end >= 0) {
                return offset + end - part.position();
            }
            offset += part.remaining();
        }
        return -1;
    }

    /**
     * Whether a complete value uses the types of the newer MessagePack spec (bin or str8), which an
     * old-spec client could not decode: the server answers such a client in the newer spec.
     */
    public static boolean usesNewSpec(ByteString frame) {
        Scanner scanner = new Scanner(Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE);
        scanAll(frame, scanner);
        return scanner.newSpec();
    }

    /**
     * Walks one message after another through the bytes of a stream as they arrive. {@link #feed} is given each
     * read once; the scanner remembers where inside the message it is (the header bytes still to come, the payload
     * to skip, the values each open array or map still holds), so the cost of framing is linear in the bytes.
     */
    public static final class Scanner {
        private static final int TYPE = 0;
        private static final int LENGTH = 1;
        private static final int PAYLOAD = 2;

        /** What a type byte's length field counts: payload bytes, array values or map entries. */
        private static final int RAW = 0;

        private static final int ARRAY = 1;
        private static final int MAP = 2;

        private final long maxBytes;
        private final int maxDepth;
        private final long maxElements;

        private int state = TYPE;
        private long scanned;
        private int lengthLeft;
        private long length;
        private int lengthKind;
        private long extra;
        private long skip;
        /** Values still to come at each open nesting level; level 0 is the message itself. */
        private long[] remaining = new long[8];

        private int depth;
        private long pendingValues;
        private long elements;
        private boolean newSpec;

        /**
         * @param maxBytes the largest message
         * @param maxDepth the deepest nesting of arrays and maps (the message's own array is 1)
         * @param maxElements the most values one message holds, itself, keys and values included
         */
        public Scanner(long maxBytes, int maxDepth, long maxElements) {
            this.maxBytes = maxBytes;
            this.maxDepth = maxDepth;
            this.maxElements = maxElements;
            reset();
        }

        /** Starts the next message. */
        public void reset() {
            state = TYPE;
            scanned = 0;
            depth = 0;
            remaining[0] = 1;
            pendingValues = 1;
            elements = 0;
            skip = 0;
            lengthLeft = 0;
            newSpec = false;
        }

        /**
         * Scans {@code buf} from index {@code from} (absolute, as {@link ByteBuffer#get(int)} counts; the buffer's
         * position is neither used nor moved) up to its limit.
         *
         * @return the index just past the end of the current message if it ends in {@code buf}, else -1 (all of it
         *     scanned, more needed)
         * @throws RefusedException when the message goes beyond a limit
         * @throws MalformedStreamException when a byte is not a MessagePack type
         */
        public int feed(ByteBuffer buf, int from) {
            int limit = buf.limit();
            int i = from;
            while (i < limit) {
                if (state == PAYLOAD) {
                    int n = (int) Math.min(skip, limit - i);
                    i += n;
                    scanned += n;
                    skip -= n;
                    if (skip > 0) {
                        return -1;
                    }
                    state = TYPE;
                    if (valueDone()) {
                        return i;
                    }
                    continue;
                }
                int b = buf.get(i++) & 0xff;
                scanned++;
                boolean done;
                if (state == LENGTH) {
                    length = length << 8 | b;
                    done = --lengthLeft == 0 && lengthKnown();
                } else {
                    done = typeByte(b);
                }
                if (done) {
                    return i;
                }
            }
            return -1;
        }

        /** Bytes of the current message scanned so far: 0 before its first byte. */
        public long scanned() {
            return scanned;
        }

        /** The fewest bytes the current message can still take in all: what it has declared so far. */
        public long declared() {
            return scanned + lengthLeft + skip + pendingValues;
        }

        /** Whether the current (complete) message uses the types of the newer spec, bin or str8. */
        public boolean newSpec() {
            return newSpec;
        }

        /** Reads a type byte; whether the message ends with it. */
        private boolean typeByte(int b) {
            if (b == 0xd9 || (b >= 0xc4 && b <= 0xc6)) {
                newSpec = true;
            }
            elements++;
            remaining[depth]--;
            pendingValues--;
            if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
                return valueDone();
            }
            if (b <= 0x8f) {
                return container(2L * (b & 0x0f));
            }
            if (b <= 0x9f) {
                return container(b & 0x0f);
            }
            if (b <= 0xbf) {
                return payload(b & 0x1f);
            }
            return switch (b) {
                case 0xc4, 0xd9 -> length(1, RAW, 0);
                case 0xc5, 0xda -> length(2, RAW, 0);
                case 0xc6, 0xdb -> length(4, RAW, 0);
                case 0xc7 -> length(1, RAW, 1);
                case 0xc8 -> length(2, RAW, 1);
                case 0xc9 -> length(4, RAW, 1);
                case 0xca -> payload(4);
                case 0xcb -> payload(8);
                case 0xcc, 0xd0 -> payload(1);
                case 0xcd, 0xd1 -> payload(2);
                case 0xce, 0xd2 -> payload(4);
                case 0xcf, 0xd3 -> payload(8);
                case 0xd4 -> payload(2);
                case 0xd5 -> payload(3);
                case 0xd6 -> payload(5);
                case 0xd7 -> payload(9);
                case 0xd8 -> payload(17);
                case 0xdc -> length(2, ARRAY, 0);
                case 0xdd -> length(4, ARRAY, 0);
                case 0xde -> length(2, MAP, 0);
                case 0xdf -> length(4, MAP, 0);
                default ->
                    throw new MalformedStreamException(
                            String.format("byte 0x%02x at offset %d is not a MessagePack type", b, scanned - 1));
            };
        }

        private boolean length(int bytes, int kind, long extraBytes) {
            state = LENGTH;
            lengthLeft = bytes;
            length = 0;
            lengthKind = kind;
            extra = extraBytes;
            checkSize();
            return false;
        }

        private boolean lengthKnown() {
            state = TYPE;
            return switch (lengthKind) {
                case ARRAY -> container(length);
                case MAP -> container(2 * length);
                default -> payload(length + extra);
            };
        }

        private boolean payload(long bytes) {
            if (bytes == 0) {
                return valueDone();
            }
            skip = bytes;
            state = PAYLOAD;
            checkSize();
            return false;
        }

        private boolean container(long values) {
            if (depth + 1 > maxDepth) {
                throw new RefusedException(
                        "message nests arrays and maps deeper than " + maxDepth + " (" + MAX_NESTING_DEPTH + ")");
            }
            if (values == 0) {
                return valueDone();
            }
            pendingValues += values;
            // Every value still to come takes at least a byte and counts as one: a container declaring more than
            // can fit is refused from its header, before its values are read.
            if (elements + pendingValues > maxElements) {
                throw new RefusedException(
                        "message declares more than " + maxElements + " values (" + MAX_ELEMENTS + ")");
            }
            checkSize();
            if (++depth == remaining.length) {
                remaining = Arrays.copyOf(remaining, remaining.length * 2);
            }
            remaining[depth] = values;
            return false;
        }

        /** A value is complete: closes the containers it completes; whether the message is complete. */
        private boolean valueDone() {
            while (depth > 0 && remaining[depth] == 0) {
                depth--;
            }
            return depth == 0 && remaining[0] == 0;
        }

        private void checkSize() {
            if (declared() > maxBytes) {
                throw new TooLargeException(
                        "message larger than the maximum of " + maxBytes + " bytes (" + MAX_MESSAGE_SIZE + ")");
            }
        }
    }

    /**
     * The msgid of a request {@code [0, msgid, ...]} from the first bytes of its message, or -1 when
     * they are not such a request: lets the server answer a message it refuses to read whole.
     */
    public static long requestId(ByteString buf) {
        if (buf.size() < 3 || (buf.apply(0) & 0xff) != 0x94 || buf.apply(1) != 0) {
            return -1;
        }
        int b = buf.apply(2) & 0xff;
        if (b <= 0x7f) {
            return b;
        }
        int n = switch (b) {
            case 0xcc -> 1;
            case 0xcd -> 2;
            case 0xce -> 4;
            case 0xcf -> 8;
            default -> 0;
        };
        return n == 0 ? -1 : unsigned(buf, 3, n);
    }

    /** A big-endian unsigned integer of {@code n} bytes at {@code at}, or -1 when not all of it has arrived. */
    private static long unsigned(ByteString buf, long at, int n) {
        if (at + n > buf.size()) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = v << 8 | (buf.apply((int) at + i) & 0xff);
        }
        return v;
    }
}
