package org.spreadosd.model;

/**
 * One row of the metadata store: a stored version (or removal mark) of a key.
 *
 * @param crc32c CRC-32C of the data, also stored beside the bytes on every DS
 * @param contentType the Content-Type the client sent at add time, or null
 */
public record VersionRecord(
        byte[] key,
        long vtime,
        int rsid,
        byte[] vname,
        boolean removed,
        long size,
        int crc32c,
        String contentType,
        Attributes attrs) {

    /** The stored version this record names. */
    public VersionId version() {
        return new VersionId(rsid, key, vtime);
    }

    public ObjectKey objectKey() {
        return new ObjectKey(key, vtime, rsid);
    }

    /** A strong validator that changes whenever the version or its bytes change. */
    public String etag() {
        return etag(vtime, crc32c);
    }

    public static String etag(long vtime, int crc32c) {
        return Long.toHexString(vtime) + "-" + String.format("%08x", crc32c);
    }
}
