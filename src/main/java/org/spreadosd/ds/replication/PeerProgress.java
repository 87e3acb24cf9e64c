package org.spreadosd.ds.replication;

import org.spreadosd.ds.replication.ReplicaProtocol.Position;

/** Where this member stands against one peer: what the next pull round reads from that peer. */
sealed interface PeerProgress {
    /** The persisted position was not read yet (a fresh start, or the peer came back): it decides what is next. */
    record Unread() implements PeerProgress {}

    /**
     * Copying the peer's inventory, read up to {@code after} (null: not yet begun); {@code start} is where the
     * peer's log ended when the copy began (null until the first page), so everything after it is in the log.
     */
    record Bootstrapping(String after, Position start, long listed, long listedBytes, long startedNanos)
            implements PeerProgress {
        static Bootstrapping begin() {
            return new Bootstrapping(null, null, 0, 0, System.nanoTime());
        }

        /** How far through the inventory, by the first byte of the last name read (names are evenly spread). */
        int percent() {
            return after == null ? 0 : Integer.parseInt(after.substring(0, 2), 16) * 100 / 256;
        }
    }

    /** Applying the peer's update log from a position, persisted after every applied batch. */
    record Following(Position position) implements PeerProgress {}
}
