package org.spreadosd.rpc;

import org.apache.pekko.util.ByteString;

/**
 * Finds where MessagePack values end in a byte stream that has no other framing (rpc-api.md,
 * Transport). Only headers are read: a 256 MiB bin value costs the same to measure as a small one,
 * so a message that arrives in many TCP reads is measured again cheaply on each read.
 */
public final class MsgpackFrames {
    /** Not a MessagePack value: the stream cannot be understood from here on. */
    public static class MalformedStreamException extends RuntimeException {
        public MalformedStreamException(String message) {
            super(message, null, false, false);
        }
    }

    /** A message larger than the maximum: refused from its header, before its body is read. */
    public static final class TooLargeException extends MalformedStreamException {
        public TooLargeException(String message) {
            super(message);
        }
    }

    private MsgpackFrames() {}

    /**
     * The length in bytes of the complete value at the start of {@code buf}, or -1 if more bytes are
     * needed to know it. A value larger than {@code maxBytes} is refused as soon as its size is known.
     */
    public static long firstValueLength(ByteString buf, long maxBytes) {
        return scan(buf, maxBytes, null);
    }

    /**
     * Whether a complete value uses the types of the newer MessagePack spec (bin or str8), which an
     * old-spec client could not decode: the server answers such a client in the newer spec.
     */
    public static boolean usesNewSpec(ByteString frame) {
        boolean[] seen = new boolean[1];
        scan(frame, Long.MAX_VALUE, seen);
        return seen[0];
    }

    private static long scan(ByteString buf, long maxBytes, boolean[] newSpecSeen) {
        long pos = 0;
        long pending = 1;
        while (pending > 0) {
            if (pos >= buf.size()) {
                return -1;
            }
            int b = buf.apply((int) pos) & 0xff;
            pending--;
            if (newSpecSeen != null && (b == 0xd9 || (b >= 0xc4 && b <= 0xc6))) {
                newSpecSeen[0] = true;
            }
            long header;
            long payload = 0;
            long children = 0;
            if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
                header = 1;
            } else if (b >= 0x80 && b <= 0x8f) {
                header = 1;
                children = 2L * (b & 0x0f);
            } else if (b >= 0x90 && b <= 0x9f) {
                header = 1;
                children = b & 0x0f;
            } else if (b >= 0xa0 && b <= 0xbf) {
                header = 1;
                payload = b & 0x1f;
            } else {
                switch (b) {
                    case 0xc4, 0xd9 -> {
                        header = 2;
                        payload = unsigned(buf, pos + 1, 1);
                    }
                    case 0xc5, 0xda -> {
                        header = 3;
                        payload = unsigned(buf, pos + 1, 2);
                    }
                    case 0xc6, 0xdb -> {
                        header = 5;
                        payload = unsigned(buf, pos + 1, 4);
                    }
                    case 0xc7 -> {
                        header = 3;
                        payload = unsigned(buf, pos + 1, 1);
                    }
                    case 0xc8 -> {
                        header = 4;
                        payload = unsigned(buf, pos + 1, 2);
                    }
                    case 0xc9 -> {
                        header = 6;
                        payload = unsigned(buf, pos + 1, 4);
                    }
                    case 0xca -> header = 5;
                    case 0xcb -> header = 9;
                    case 0xcc, 0xd0 -> header = 2;
                    case 0xcd, 0xd1 -> header = 3;
                    case 0xce, 0xd2 -> header = 5;
                    case 0xcf, 0xd3 -> header = 9;
                    case 0xd4 -> header = 3;
                    case 0xd5 -> header = 4;
                    case 0xd6 -> header = 6;
                    case 0xd7 -> header = 10;
                    case 0xd8 -> header = 18;
                    case 0xdc -> {
                        header = 3;
                        children = unsigned(buf, pos + 1, 2);
                    }
                    case 0xdd -> {
                        header = 5;
                        children = unsigned(buf, pos + 1, 4);
                    }
                    case 0xde -> {
                        header = 3;
                        children = 2 * unsigned(buf, pos + 1, 2);
                    }
                    case 0xdf -> {
                        header = 5;
                        children = 2 * unsigned(buf, pos + 1, 4);
                    }
                    default ->
                        throw new MalformedStreamException(
                                String.format("byte 0x%02x at offset %d is not a MessagePack type", b, pos));
                }
                if (payload < 0 || children < 0) {
                    return -1;
                }
            }
            pos += header + payload;
            pending += children;
            // Every value still to come takes at least a byte: a container declaring more than can fit is
            // refused from its header, before its elements are read.
            if (pos > maxBytes || pos + pending > maxBytes) {
                throw new TooLargeException("message larger than the maximum of " + maxBytes + " bytes");
            }
        }
        return pos <= buf.size() ? pos : -1;
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
