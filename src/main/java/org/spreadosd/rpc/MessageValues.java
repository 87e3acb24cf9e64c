package org.spreadosd.rpc;

import java.io.IOException;
import org.apache.pekko.util.ByteString;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;

/**
 * Decodes one complete message into values, keeping each bin32 and str32 (65,536 bytes and more from a conforming
 * encoder, an object's data) as a {@link SlicedRaw} slice of the message instead of a copy. The message's bytes are
 * counted in the node's buffer budget while its call runs; a decoded copy beside them would not be, and a 100 MiB
 * add took three times its size. Nesting and counts were bounded by the framer before this runs.
 */
final class MessageValues {
    /** A bin32 or str32 header: the format byte and a 4-byte length. */
    private static final int RAW32_HEADER = 5;

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
            case BIN32, STR32 -> {
                int start = Math.toIntExact(u.getTotalReadBytes());
                u.skipValue();
                ByteString payload = message.slice(start + RAW32_HEADER, Math.toIntExact(u.getTotalReadBytes()));
                return format == MessageFormat.BIN32 ? new SlicedRaw.Binary(payload) : new SlicedRaw.Text(payload);
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
