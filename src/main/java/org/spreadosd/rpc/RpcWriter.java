package org.spreadosd.rpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.spreadosd.edge.BudgetReservation;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;

/**
 * Encodes responses {@code [1, msgid, error, result]}. Results are built from null, Boolean, Number,
 * String, byte[] (raw bytes), {@link ReservedBytes}, ObjectKey, Attributes, List and Map. In the old spec bytes and
 * strings are written as raw (no str8, no bin) so that msgpack-0.4 era clients decode them; in the new spec
 * bytes are bin and text is str. {@link ReservedBytes} are not copied: the answer is the packed bytes before them,
 * them, and the packed bytes after them, concatenated.
 */
final class RpcWriter {
    private static final MessagePack.PackerConfig OLD_SPEC =
            new MessagePack.PackerConfig().withStr8FormatSupport(false);
    private static final MessagePack.PackerConfig NEW_SPEC = new MessagePack.PackerConfig();

    private RpcWriter() {}

    static ByteString response(long msgid, String error, Object result, boolean newSpec) {
        ConnectionPipeline.Answer answer = answer(msgid, error, result, newSpec);
        // no reservation to hand on: the caller's bytes are its own
        answer.release();
        return answer.bytes();
    }

    /** The encoded response and the reservations of the {@link ReservedBytes} in it, for its connection to take. */
    static ConnectionPipeline.Answer answer(long msgid, String error, Object result, boolean newSpec) {
        Writer w = new Writer(newSpec);
        try (w.p) {
            w.p.packArrayHeader(4).packInt(1).packLong(msgid);
            if (error == null) {
                w.p.packNil();
                w.write(result);
            } else {
                w.write(error);
                w.p.packNil();
            }
            w.flush();
            return new ConnectionPipeline.Answer(w.out, w.reservations);
        } catch (IOException e) {
            w.reservations.forEach(BudgetReservation::release);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            w.reservations.forEach(BudgetReservation::release);
            throw e;
        }
    }

    /** Gives back what the {@link ReservedBytes} in a result that is not sent reserved. */
    static void release(Object result) {
        if (result instanceof ReservedBytes r) {
            r.reservation().release();
        } else if (result instanceof List<?> list) {
            list.forEach(RpcWriter::release);
        } else if (result instanceof Map<?, ?> map) {
            map.values().forEach(RpcWriter::release);
        }
    }

    private static final class Writer {
        private final boolean newSpec;
        private final MessageBufferPacker p;
        private ByteString out = ByteString.emptyByteString();
        private final List<BudgetReservation> reservations = new ArrayList<>(1);

        Writer(boolean newSpec) {
            this.newSpec = newSpec;
            this.p = (newSpec ? NEW_SPEC : OLD_SPEC).newBufferPacker();
        }

        /** Moves what is packed so far to the answer. */
        void flush() {
            out = out.concat(ByteString.fromArrayUnsafe(p.toByteArray()));
            p.clear();
        }

        void write(Object v) throws IOException {
            if (v == null) {
                p.packNil();
            } else if (v instanceof Boolean b) {
                p.packBoolean(b);
            } else if (v instanceof Integer || v instanceof Long) {
                p.packLong(((Number) v).longValue());
            } else if (v instanceof Double d) {
                p.packDouble(d);
            } else if (v instanceof String s) {
                raw(s.getBytes(StandardCharsets.UTF_8), false);
            } else if (v instanceof byte[] b) {
                raw(b, newSpec);
            } else if (v instanceof ReservedBytes r) {
                reservations.add(r.reservation());
                header(r.bytes().size(), newSpec);
                flush();
                out = out.concat(r.bytes());
            } else if (v instanceof ObjectKey k) {
                p.packArrayHeader(3);
                raw(k.key(), newSpec);
                p.packLong(k.vtime()).packInt(k.rsid());
            } else if (v instanceof Attributes a) {
                p.packMapHeader(a.map().size());
                for (Map.Entry<String, String> e : a.map().entrySet()) {
                    raw(e.getKey().getBytes(StandardCharsets.UTF_8), newSpec);
                    raw(e.getValue().getBytes(StandardCharsets.UTF_8), newSpec);
                }
            } else if (v instanceof List<?> list) {
                p.packArrayHeader(list.size());
                for (Object o : list) {
                    write(o);
                }
            } else if (v instanceof Map<?, ?> map) {
                p.packMapHeader(map.size());
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    write(e.getKey());
                    write(e.getValue());
                }
            } else {
                throw new IllegalArgumentException("cannot encode " + v.getClass());
            }
        }

        /** Bytes as bin for new-spec clients; otherwise as raw/str (without str8 in the old spec). */
        private void raw(byte[] b, boolean asBin) throws IOException {
            header(b.length, asBin);
            p.writePayload(b);
        }

        private void header(int length, boolean asBin) throws IOException {
            if (asBin) {
                p.packBinaryHeader(length);
            } else {
                p.packRawStringHeader(length);
            }
        }
    }
}
