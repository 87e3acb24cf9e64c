package org.spreadosd.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;
import org.msgpack.value.ValueType;

/**
 * The attributes of a version: a map of string to string, in the order the client gave.
 * Stored in the metadata store as a MessagePack map, the same encoding the RPC API uses.
 */
public record Attributes(Map<String, String> map) {
    public static final Attributes EMPTY = new Attributes(Map.of());

    public Attributes {
        map = Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    public String get(String name) {
        return map.get(name);
    }

    public boolean isEmpty() {
        return map.isEmpty();
    }

    public byte[] toMsgpack() {
        try (MessageBufferPacker packer = MessagePack.newDefaultBufferPacker()) {
            packer.packMapHeader(map.size());
            for (Map.Entry<String, String> e : map.entrySet()) {
                packer.packString(e.getKey());
                packer.packString(e.getValue());
            }
            return packer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a MessagePack map whose keys and values are str, bin or raw.
     *
     * @throws IllegalArgumentException naming the problem when the bytes are not such a map
     */
    public static Attributes fromMsgpack(byte[] bytes) {
        // Read header by header, never as a Value: a map of strings has no nesting to recurse into, and a
        // recursive decoder overflows its stack on a body of nested array headers (a StackOverflowError).
        try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(bytes)) {
            if (!unpacker.hasNext()) {
                throw new IllegalArgumentException("attributes are empty, expected a MessagePack map");
            }
            ValueType type = unpacker.getNextFormat().getValueType();
            if (type != ValueType.MAP) {
                throw new IllegalArgumentException(
                        "attributes must be a map, got " + type.name().toLowerCase());
            }
            int entries = unpacker.unpackMapHeader();
            Map<String, String> out = new LinkedHashMap<>();
            for (int i = 0; i < entries; i++) {
                String name = stringAt(unpacker, bytes.length, "name");
                out.put(name, stringAt(unpacker, bytes.length, "value"));
            }
            if (unpacker.hasNext()) {
                throw new IllegalArgumentException("attributes have trailing bytes after the MessagePack map");
            }
            return new Attributes(out);
        } catch (IOException | MessagePackException e) {
            throw new IllegalArgumentException("attributes are not valid MessagePack: " + e.getMessage());
        }
    }

    /** The next str, bin or raw, checked against the bytes there are before its payload is allocated. */
    private static String stringAt(MessageUnpacker unpacker, int available, String what) throws IOException {
        ValueType type = unpacker.getNextFormat().getValueType();
        int length;
        if (type == ValueType.STRING) {
            length = unpacker.unpackRawStringHeader();
        } else if (type == ValueType.BINARY) {
            length = unpacker.unpackBinaryHeader();
        } else {
            throw new IllegalArgumentException("attribute " + what + " must be a string, got "
                    + type.name().toLowerCase());
        }
        if (length < 0 || length > available) {
            throw new IllegalArgumentException("attributes are not valid MessagePack: an attribute " + what + " of "
                    + Integer.toUnsignedString(length) + " bytes in " + available);
        }
        byte[] payload = unpacker.readPayload(length);
        return type == ValueType.STRING
                ? ValueFactory.newString(payload).asString()
                : new String(payload, StandardCharsets.UTF_8);
    }

    public static Attributes fromMsgpackValue(Value value) {
        if (value.getValueType() != ValueType.MAP) {
            throw new IllegalArgumentException("attributes must be a map, got "
                    + value.getValueType().name().toLowerCase());
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<Value, Value> e : value.asMapValue().entrySet()) {
            out.put(stringOf(e.getKey(), "name"), stringOf(e.getValue(), "value"));
        }
        return new Attributes(out);
    }

    private static String stringOf(Value v, String what) {
        if (v.isStringValue()) {
            return v.asStringValue().asString();
        }
        if (v.isBinaryValue()) {
            return new String(v.asBinaryValue().asByteArray(), StandardCharsets.UTF_8);
        }
        throw new IllegalArgumentException("attribute " + what + " must be a string, got "
                + v.getValueType().name().toLowerCase());
    }
}
