package org.spreadosd.ds;

import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;

/**
 * The node-to-node byte stream API of a DS: {@code /_spread/v1/blob/<rsid>/<vtime>/<base64url key>}.
 * PUT streams a version in, GET streams it (or a slice: {@code ?offset=&length=}) out, DELETE drops it.
 * Facts about the version travel in headers, never in the body.
 */
public final class BlobStreamPaths {
    public static final String PREFIX = "/_spread/v1/blob/";
    public static final String SIZE_HEADER = "X-Spread-Size";
    /**
     * The version's CRC-32C: on an answer, that of the stored version; on a PUT (optional), the one the bytes must
     * have, checked before the version becomes visible.
     */
    public static final String CRC_HEADER = "X-Spread-Crc32c";

    public static final String CONTENT_TYPE_HEADER = "X-Spread-Content-Type";
    public static final String LENGTH_HEADER = "X-Spread-Length";
    /** On a PUT: the receiver coordinates the add and copies the version to the set's other members. */
    public static final String COORDINATE_HEADER = "X-Spread-Coordinate";
    /** On the answer to a coordinated PUT: how many members hold the version durably. */
    public static final String COPIES_HEADER = "X-Spread-Copies";

    private BlobStreamPaths() {}

    public static String path(VersionId v) {
        return PREFIX + v.rsid() + "/" + v.vtime() + "/" + Keys.toBase64Url(v.key());
    }

    /** The version a request path names, or null when it is not a blob path. */
    public static VersionId parse(String path) {
        if (!path.startsWith(PREFIX)) {
            return null;
        }
        String[] parts = path.substring(PREFIX.length()).split("/", -1);
        if (parts.length != 3) {
            return null;
        }
        try {
            return new VersionId(Integer.parseInt(parts[0]), Keys.fromBase64Url(parts[2]), Long.parseLong(parts[1]));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
