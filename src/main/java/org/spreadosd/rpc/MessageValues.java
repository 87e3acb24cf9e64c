package org.spreadosd.rpc;

import java.io.IOException;
import org.apache.pekko.util.ByteString;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;

/**
 * Decodes one complete message into values, keeping each bin and str of {@link #SLICED_BYTES} or more (an object's
 * data, or a hostile attribute) as a {@link SlicedRaw} slice of the message instead of a copy. The message's bytes
 * are counted in the node's buffer budget while its call runs; a decoded copy beside them would not be, and a
 * 100 MiB add took three times its size. Nesting and counts were bounded by the framer before this runs.
 */
final class MessageValues {
    /** Shorter raws are copied into ordinary values: a slice costs more than their bytes. */
    static final int SLICED_BYTES = 4096;

    private MessageValues() {}

    static Value decode(ByteString message) throws IOException {
        // a message of one read is decoded from its array, one of many reads from its parts: never copied whole
        try (MessageUnpacker unpacker = message.isCompact()
                ? MessagePack.newDefaultUnpacker(message.toArrayUnsafe())
                : MessagePack.newDefaultUnpacker(message.asInputStream())) {
            return value(unpacker, message);
        }
    }

    private static Value value(MessageUnpacker u, ByteString message) throws IOException {
        MessageFormat format = u.getNextFormat();
        switch (format) {
            case BIN16, STR16, BIN32, STR32 -> {
                // the format byte and a 2- or 4-byte length
                int header = format == MessageFormat.BIN16 || format == MessageFormat.STR16 ? 3 : 5;
                int start = Math.toIntExact(u.getTotalReadBytes());
                u.skipValue();
                ByteString payload = message.slice(start + header, Math.toIntExact(u.getTotalReadBytes()));
                boolean binary = format == MessageFormat.BIN16 || format == MessageFormat.BIN32;
                if (payload.size() < SLICED_BYTES) {
                    return binary
                            ? ValueFactory.newBinary(payload.toArray(), true)
                            : ValueFactory.newString(payload.toArray(), true);
                }
                return binary ? new SlicedRaw.Binary(payload) : new SlicedRaw.Text(payload);
            }
            case FIXARRAY, ARRAY16, ARRAY32 -> {
                Value[] items = new Value[u.unpackArrayHeader()];
                for (int i = 0; i < items.length; i++) {
                    items[i] = value(u, message);
                }
                return ValueFactory.newArray(items, true);
            }
            case FIXMAP, MAP16, MAP32 -> {
                Value[] kvs = new Value[2 * u.unpackMapHeader()];
                for (int i = 0; i < kvs.length; i++) {
                    kvs[i] = value(u, message);
                }
                return ValueFactory.newMap(kvs, true);
            }
            default -> {
                return u.unpackValue();
            }
        }
    }
}
