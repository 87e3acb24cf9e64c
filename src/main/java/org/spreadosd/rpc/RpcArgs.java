package org.spreadosd.rpc;

import java.util.List;
import org.msgpack.value.Value;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;

/** The arguments of one call, checked by position; a wrong type is an error answer that names it. */
public final class RpcArgs {
    /** A call the server cannot run as asked: answered as {@code [1, id, message, nil]}. */
    public static final class CallError extends RuntimeException {
        public CallError(String message) {
            super(message, null, false, false);
        }
    }

    private final String method;
    private final List<Value> values;

    public RpcArgs(String method, List<Value> values) {
        this.method = method;
        this.values = values;
    }

    public void expectCount(int n) {
        if (values.size() != n) {
            throw new CallError(
                    "wrong number of arguments for " + method + ": expected " + n + ", got " + values.size());
        }
    }

    /** raw, str or bin: the original clients send raw, modern ones str or bin. */
    public byte[] raw(int i) {
        Value v = values.get(i);
        if (v.isStringValue()) {
            return v.asStringValue().asByteArray();
        }
        if (v.isBinaryValue()) {
            return v.asBinaryValue().asByteArray();
        }
        throw wrongType(i, "raw bytes", v);
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
            throw new CallError(what + " of " + method + " must not be negative, got " + n);
        }
        return n;
    }

    public Attributes attrs(int i) {
        try {
            return Attributes.fromMsgpackValue(values.get(i));
        } catch (IllegalArgumentException e) {
            throw new CallError("argument " + (i + 1) + " of " + method + ": " + e.getMessage());
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
        return new String(raw(i), java.nio.charset.StandardCharsets.UTF_8);
    }

    private CallError wrongType(int i, String expected, Value got) {
        return new CallError("argument " + (i + 1) + " of " + method + " must be " + expected + ", got "
                + got.getValueType().name().toLowerCase());
    }
}
