package org.spreadosd.model;

import java.util.Arrays;

/**
 * One version of one key in one replication-set, the identity every data server layer passes around (the store,
 * the byte stream API, replication, repair). Keys are arbitrary bytes, so the record compares them by content; the
 * array is not copied, and nobody may change it once it names a version.
 */
public record VersionId(int rsid, byte[] key, long vtime) {

    @Override
    public boolean equals(Object o) {
        return o instanceof VersionId other
                && rsid == other.rsid
                && vtime == other.vtime
                && Arrays.equals(key, other.key);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * rsid + Arrays.hashCode(key)) + Long.hashCode(vtime);
    }

    /** The facts a log line names, in the order log lines name them. */
    @Override
    public String toString() {
        return "rsid=" + rsid + " key=" + Keys.printable(key) + " vtime=" + vtime;
    }
}
