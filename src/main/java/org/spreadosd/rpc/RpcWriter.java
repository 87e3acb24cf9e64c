package org.spreadosd.rpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;

/**
 * Encodes responses {@code [1, msgid, error, result]}. Results are built from null, Boolean, Number,
 * String, byte[] (raw bytes), ObjectKey, Attributes, List and Map. In the old spec bytes and strings
 * are written as raw (no str8, no bin) so that msgpack-0.4 era clients decode them; in the new spec
 * bytes are bin and text is str.
 */
final class RpcWriter {
    private static final MessagePack.PackerConfig OLD_SPEC =
            new MessagePack.PackerConfig().withStr8FormatSupport(false);
    private static final MessagePack.PackerConfig NEW_SPEC = new MessagePack.PackerConfig();

    private RpcWriter() {}

    static ByteString response(long msgid, String error, Object result, boolean newSpec) {
        try (MessageBufferPacker p = (newSpec ? NEW_SPEC : OLD_SPEC).newBufferPacker()) {
            p.packArrayHeader(4).packInt(1).packLong(msgid);
            if (error == null) {
                p.packNil();
                write(p, result, newSpec);
            } else {
                write(p, error, newSpec);
                p.packNil();
            }
            return ByteString.fromArrayUnsafe(p.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(MessageBufferPacker p, Object v, boolean newSpec) throws IOException {
        if (v == null) {
            p.packNil();
        } else if (v instanceof Boolean b) {
            p.packBoolean(b);
        } else if (v instanceof Integer || v instanceof Long) {
            p.packLong(((Number) v).longValue());
        } else if (v instanceof Double d) {
            p.packDouble(d);
        } else if (v instanceof String s) {
            raw(p, s.getBytes(StandardCharsets.UTF_8), false);
        } else if (v instanceof byte[] b) {
            raw(p, b, newSpec);
        } else if (v instanceof ObjectKey k) {
            p.packArrayHeader(3);
            raw(p, k.key(), newSpec);
            p.packLong(k.vtime()).packInt(k.rsid());
        } else if (v instanceof Attributes a) {
            p.packMapHeader(a.map().size());
            for (Map.Entry<String, String> e : a.map().entrySet()) {
                raw(p, e.getKey().getBytes(StandardCharsets.UTF_8), newSpec);
                raw(p, e.getValue().getBytes(StandardCharsets.UTF_8), newSpec);
            }
        } else if (v instanceof List<?> list) {
            p.packArrayHeader(list.size());
            for (Object o : list) {
                write(p, o, newSpec);
            }
        } else if (v instanceof Map<?, ?> map) {
            p.packMapHeader(map.size());
            for (Map.Entry<?, ?> e : map.entrySet()) {
                write(p, e.getKey(), newSpec);
                write(p, e.getValue(), newSpec);
            }
        } else {
            throw new IllegalArgumentException("cannot encode " + v.getClass());
        }
    }

    /** Bytes as bin for new-spec clients; otherwise as raw/str (without str8 in the old spec). */
    private static void raw(MessageBufferPacker p, byte[] b, boolean asBin) throws IOException {
        if (asBin) {
            p.packBinaryHeader(b.length);
        } else {
            p.packRawStringHeader(b.length);
        }
        p.writePayload(b);
    }
}
