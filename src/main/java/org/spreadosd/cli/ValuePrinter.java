package org.spreadosd.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import org.msgpack.value.Value;

/** Prints an RPC result readably: bytes as quoted text when they are UTF-8, as hex otherwise. */
final class ValuePrinter {
    private ValuePrinter() {}

    static String print(Value v) {
        StringBuilder sb = new StringBuilder();
        append(sb, v);
        return sb.toString();
    }

    private static void append(StringBuilder sb, Value v) {
        switch (v.getValueType()) {
            case NIL -> sb.append("nil");
            case STRING, BINARY -> appendBytes(sb, v.asRawValue().asByteArray());
            case ARRAY -> {
                sb.append('[');
                boolean first = true;
                for (Value e : v.asArrayValue()) {
                    if (!first) {
                        sb.append(", ");
                    }
                    first = false;
                    append(sb, e);
                }
                sb.append(']');
            }
            case MAP -> {
                sb.append('{');
                boolean first = true;
                for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
                    if (!first) {
                        sb.append(", ");
                    }
                    first = false;
                    append(sb, e.getKey());
                    sb.append(": ");
                    append(sb, e.getValue());
                }
                sb.append('}');
            }
            default -> sb.append(v.toString());
        }
    }

    /** Bytes as plain text when they are UTF-8, as 0x-hex otherwise (for table cells). */
    static String printBytes(byte[] b) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            return "0x" + HexFormat.of().formatHex(b);
        }
    }

    private static void appendBytes(StringBuilder sb, byte[] b) {
        try {
            String text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(b))
                    .toString();
            sb.append('"')
                    .append(text.replace("\\", "\\\\")
                            .replace("\"", "\\\"")
                            .replace("\n", "\\n")
                            .replace("\t", "\\t"))
                    .append('"');
        } catch (CharacterCodingException e) {
            sb.append("0x").append(HexFormat.of().formatHex(b));
        }
    }
}
