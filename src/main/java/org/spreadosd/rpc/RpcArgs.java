package org.spreadosd.rpc;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.msgpack.value.Value;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.Limits;
import org.spreadosd.model.ObjectKey;

/**
 * The arguments of one call, checked by position; a wrong type is a {@link FailureCode#BAD_REQUEST} failure, answered
 * as {@code [1, id, message, nil]} with a message that names it.
 */
public final class RpcArgs {
    private final String method;
    private final List<Value> values;

    /**
     * The most bytes an argument other than an object's data is copied out of its message with: four times the
     * largest ceiling of {@code spreadosd.limits} (attributes, 1 MiB), so that one just over its limit is still
     * refused by the gateway naming that limit. A larger one is refused before it is copied: the copy would not be
     * counted in the node's buffer budget (the message is).
     */
    static final long MAX_COPIED_BYTES = 4L * Limits.ATTRS_BYTES_CEILING;

    public RpcArgs(String method, List<Value> values) {
        this.method = method;
        this.values = values;
    }

    public void expectCount(int n) {
        if (values.size() != n) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST,
                    "wrong number of arguments for " + method + ": expected " + n + ", got " + values.size());
        }
    }

    /** raw, str or bin: the original clients send raw, modern ones str or bin. */
    public byte[] raw(int i) {
        Value v = values.get(i);
        copying(i, slicedBytes(v));
        if (v.isStringValue()) {
            return v.asStringValue().asByteArray();
        }
        if (v.isBinaryValue()) {
            return v.asBinaryValue().asByteArray();
        }
        throw wrongType(i, "raw bytes", v);
    }

    /**
     * raw, str or bin as {@link #raw}, without a copy when the decoder kept it as a slice of its message (an object's
     * data): the message is counted in the node's buffer budget, a copy would not be.
     */
    public ByteString bytes(int i) {
        ByteString slice = SlicedRaw.slice(values.get(i));
        return slice != null ? slice : ByteString.fromArrayUnsafe(raw(i));
    }

    public long integer(int i) {
        Value v = values.get(i);
        if (!v.isIntegerValue() || !v.asIntegerValue().isInLongRange()) {
            throw wrongType(i, "an integer", v);
        }
        return v.asIntegerValue().toLong();
    }

    public long nonNegative(int i, String what) {
        long n = integer(i);
        if (n < 0) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST, what + " of " + method + " must not be negative, got " + n);
        }
        return n;
    }

    public Attributes attrs(int i) {
        Value v = values.get(i);
        if (v.isMapValue()) {
            long bytes = 0;
            for (Map.Entry<Value, Value> e : v.asMapValue().entrySet()) {
                bytes += slicedBytes(e.getKey()) + slicedBytes(e.getValue());
            }
            copying(i, bytes);
        }
        try {
            return Attributes.fromMsgpackValue(values.get(i));
        } catch (IllegalArgumentException e) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST, "argument " + (i + 1) + " of " + method + ": " + e.getMessage());
        }
    }

    public ObjectKey okey(int i) {
        Value v = values.get(i);
        if (!v.isArrayValue() || v.asArrayValue().size() != 3) {
            throw wrongType(i, "an object key [key, vtime, rsid]", v);
        }
        RpcArgs parts = new RpcArgs(method, v.asArrayValue().list());
        return new ObjectKey(parts.raw(0), parts.integer(1), (int) parts.integer(2));
    }

    public String text(int i) {
        return new String(raw(i), StandardCharsets.UTF_8);
    }

    /** The bytes of {@code v} if the decoder kept it as a slice (a large raw), else 0 (small, decoded already). */
    private static long slicedBytes(Value v) {
        ByteString slice = SlicedRaw.slice(v);
        return slice == null ? 0 : slice.size();
    }

    private void copying(int i, long bytes) {
        if (bytes > MAX_COPIED_BYTES) {
            throw new SpreadFailure(
                    FailureCode.LIMIT_EXCEEDED,
                    "argument " + (i + 1) + " of " + method + " is " + bytes + " bytes, more than any key, version"
                            + " name or attributes may be (" + MAX_COPIED_BYTES + ", spreadosd.limits)");
        }
    }

    private SpreadFailure wrongType(int i, String expected, Value got) {
        return new SpreadFailure(
                FailureCode.BAD_REQUEST,
                "argument " + (i + 1) + " of " + method + " must be " + expected + ", got "
                        + got.getValueType().name().toLowerCase());
    }
}
