package org.spreadosd.gw.http;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.PathCodec;
import org.spreadosd.model.Selector;

/**
 * The parameters of one request, from its query string and its form body, as raw bytes (keys, names
 * and data are arbitrary bytes). The first value of a name wins; the query string comes first.
 */
public final class RequestParams {
    private final Map<String, byte[]> values = new LinkedHashMap<>();

    public static RequestParams fromQuery(String rawQuery) {
        RequestParams p = new RequestParams();
        p.addUrlEncoded(rawQuery);
        return p;
    }

    /** Adds {@code a=1&b=2} pairs, percent-decoded to bytes. */
    public void addUrlEncoded(String encoded) {
        if (encoded == null || encoded.isEmpty()) {
            return;
        }
        for (String pair : encoded.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                put(new String(PathCodec.decode(name, true), StandardCharsets.UTF_8), PathCodec.decode(value, true));
            } catch (IllegalArgumentException e) {
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST, "malformed parameter '" + name + "': " + e.getMessage());
            }
        }
    }

    public void put(String name, byte[] value) {
        values.putIfAbsent(name, value);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public byte[] optional(String name) {
        return values.get(name);
    }

    public byte[] require(String name) {
        byte[] v = values.get(name);
        if (v == null) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "missing required parameter '" + name + "'");
        }
        return v;
    }

    /** {@code vtime=} or {@code vname=}, or the head; both at once is a client error. */
    public Selector selector() {
        byte[] vtime = values.get("vtime");
        byte[] vname = values.get("vname");
        if (vtime != null && vname != null) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "give either vtime or vname, not both");
        }
        if (vtime != null) {
            return Selector.atTime(parseVtime(vtime));
        }
        return vname != null ? Selector.named(vname) : Selector.HEAD;
    }

    public AttrFormat format() {
        return AttrFormat.of(values.get("format"));
    }

    private static long parseVtime(byte[] raw) {
        String text = new String(raw, StandardCharsets.UTF_8).trim();
        try {
            long v = Long.parseLong(text);
            if (v < 0) {
                throw new SpreadFailure(FailureCode.BAD_REQUEST, "vtime must not be negative, got '" + text + "'");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST, "vtime must be an integer (UNIX seconds), got '" + text + "'");
        }
    }
}
