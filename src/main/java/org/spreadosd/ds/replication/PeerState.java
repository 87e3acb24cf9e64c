package org.spreadosd.ds.replication;

/**
 * What a {@link SetReplicator} knows of one peer of its set; replaced as a whole, never changed in place.
 *
 * @param busy a pull or an anti-entropy round with this peer is under way (one at a time per peer)
 * @param lastComparedMillis when the last anti-entropy round with this peer began (first seen: not due yet)
 * @param roundStartedNanos when the pull round under way began, for the round's log line
 */
record PeerState(
        PeerProgress progress,
        boolean busy,
        long copiedVersions,
        long copiedBytes,
        long lastComparedMillis,
        long roundStartedNanos) {
    static PeerState firstSeen() {
        return new PeerState(new PeerProgress.Unread(), false, 0, 0, System.currentTimeMillis(), 0);
    }

    boolean following() {
        return progress instanceof PeerProgress.Following;
    }

    PeerState withProgress(PeerProgress next) {
        return new PeerState(next, busy, copiedVersions, copiedBytes, lastComparedMillis, roundStartedNanos);
    }

    PeerState pulling(long nowNanos) {
        return new PeerState(progress, true, copiedVersions, copiedBytes, lastComparedMillis, nowNanos);
    }

    PeerState comparing(long nowMillis) {
        return new PeerState(progress, true, copiedVersions, copiedBytes, nowMillis, roundStartedNanos);
    }

    PeerState idle() {
        return new PeerState(progress, false, copiedVersions, copiedBytes, lastComparedMillis, roundStartedNanos);
    }

    PeerState plusCopied(long versions, long bytes) {
        return new PeerState(
                progress, busy, copiedVersions + versions, copiedBytes + bytes, lastComparedMillis, roundStartedNanos);
    }
}
