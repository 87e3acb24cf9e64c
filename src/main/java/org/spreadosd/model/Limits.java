package org.spreadosd.model;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * The sizes a request may give a version's key, version name, attributes and content type
 * ({@code spreadosd.limits.*}): one set of limits for the HTTP and MessagePack-RPC APIs, checked by the
 * gateway before it reserves a vtime or moves a byte, so an oversized request leaves nothing behind.
 *
 * <p>Each limit may be lowered, not raised beyond its ceiling: the metadata schema's columns are sized by
 * the ceilings (a table created once cannot follow a later setting), and PostgreSQL's index entries hold
 * little more than a 2 KiB key. The update log's and the version header's own bound on a key (65535 bytes,
 * their length fields) lies above every ceiling.
 */
public record Limits(int maxKeyBytes, int maxVnameBytes, int maxAttrsBytes, int maxContentTypeBytes) {
    public static final int KEY_BYTES_CEILING = 2048;
    public static final int VNAME_BYTES_CEILING = 1024;
    public static final int ATTRS_BYTES_CEILING = 1 << 20;
    public static final int CONTENT_TYPE_BYTES_CEILING = 255;

    /** The ceilings themselves: the defaults of reference.conf. */
    public static final Limits DEFAULTS =
            new Limits(KEY_BYTES_CEILING, VNAME_BYTES_CEILING, ATTRS_BYTES_CEILING, CONTENT_TYPE_BYTES_CEILING);

    private static final String KEY = "spreadosd.limits.max-key-bytes";
    private static final String VNAME = "spreadosd.limits.max-vname-bytes";
    private static final String ATTRS = "spreadosd.limits.max-attrs-bytes";
    private static final String CONTENT_TYPE = "spreadosd.limits.max-content-type-bytes";

    public Limits {
        within(KEY, maxKeyBytes, KEY_BYTES_CEILING);
        within(VNAME, maxVnameBytes, VNAME_BYTES_CEILING);
        within(ATTRS, maxAttrsBytes, ATTRS_BYTES_CEILING);
        within(CONTENT_TYPE, maxContentTypeBytes, CONTENT_TYPE_BYTES_CEILING);
    }

    /** From the {@code spreadosd.limits} section. */
    public static Limits from(Config limits) {
        return new Limits(
                bytes(limits, "max-key-bytes"),
                bytes(limits, "max-vname-bytes"),
                bytes(limits, "max-attrs-bytes"),
                bytes(limits, "max-content-type-bytes"));
    }

    public byte[] key(byte[] key) {
        check("key", key.length, maxKeyBytes, KEY);
        return key;
    }

    /** A version name; null (none) passes. */
    public byte[] vname(byte[] vname) {
        if (vname != null) {
            check("vname", vname.length, maxVnameBytes, VNAME);
        }
        return vname;
    }

    /** The vname a selector names, if it names one. */
    public Selector selector(Selector selector) {
        if (selector instanceof Selector.Named named) {
            vname(named.vname());
        }
        return selector;
    }

    /** Attributes as stored: their MessagePack encoding. */
    public Attributes attrs(Attributes attrs) {
        attrsBytes(attrs.toMsgpack().length);
        return attrs;
    }

    /** Attributes as stored: their MessagePack encoding of {@code size} bytes. */
    public void attrsBytes(long size) {
        check("attrs", size, maxAttrsBytes, ATTRS);
    }

    /** The refusal of an attributes body (any encoding) cut off at {@link #maxAttrsBytes} bytes. */
    public SpreadFailure attrsBodyTooLarge() {
        return exceeded("attrs body is more than " + maxAttrsBytes + " bytes, the limit is " + maxAttrsBytes + " ("
                + ATTRS + ")");
    }

    /** A content type as stored (its UTF-8 bytes); null (none) passes. */
    public String contentType(String contentType) {
        if (contentType != null) {
            check(
                    "content type '" + abbreviate(contentType) + "'",
                    contentType.getBytes(StandardCharsets.UTF_8).length,
                    maxContentTypeBytes,
                    CONTENT_TYPE);
        }
        return contentType;
    }

    private static void check(String what, long size, long limit, String setting) {
        if (size > limit) {
            throw exceeded(what + " is " + size + " bytes, the limit is " + limit + " (" + setting + ")");
        }
    }

    /** A request over one of the limits; the message names the value, the limit and its setting. */
    private static SpreadFailure exceeded(String message) {
        return new SpreadFailure(FailureCode.LIMIT_EXCEEDED, message);
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static int bytes(Config c, String path) {
        long n = c.getBytes(path);
        return n > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) n;
    }

    private static void within(String setting, int value, int ceiling) {
        if (value < 1 || value > ceiling) {
            throw new IllegalArgumentException(setting + " = " + value + " is out of range: 1 to " + ceiling
                    + ", the most the metadata schema holds");
        }
    }
}
