package org.spreadosd.model;

import java.util.Arrays;

/**
 * Names one stored version: {@code [key, vtime, rsid]}, the answer to every add.
 * Keys are arbitrary bytes, so the record compares them by content.
 */
public record ObjectKey(byte[] key, long vtime, int rsid) {

    /** The stored version this names. */
    public VersionId version() {
        return new VersionId(rsid, key, vtime);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ObjectKey other
                && vtime == other.vtime
                && rsid == other.rsid
                && Arrays.equals(key, other.key);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(key) + Long.hashCode(vtime)) + rsid;
    }

    @Override
    public String toString() {
        return "[" + Keys.printable(key) + ", " + vtime + ", " + rsid + "]";
    }
}
