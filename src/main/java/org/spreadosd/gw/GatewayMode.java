package org.spreadosd.gw;

import org.spreadosd.model.Selector;

/**
 * Read-only and snapshot gateways (operations.md, Snapshots): {@code --read-only}, {@code --read-only-time T}
 * or {@code --read-only-name N}. A snapshot gateway serves the store as it was at T, or as of the
 * versions named N, and refuses every write.
 */
public record GatewayMode(boolean readOnly, Long snapshotTime, byte[] snapshotName) {
    public static final GatewayMode READ_WRITE = new GatewayMode(false, null, null);

    public boolean refusesWrites() {
        return readOnly || snapshotTime != null || snapshotName != null;
    }

    /** What a client's selector means on this gateway. */
    public Selector apply(Selector requested) {
        if (snapshotTime != null) {
            if (requested instanceof Selector.AtTime t) {
                return Selector.atTime(Math.min(t.vtime(), snapshotTime));
            }
            return requested instanceof Selector.Head ? Selector.atTime(snapshotTime) : requested;
        }
        if (snapshotName != null && requested instanceof Selector.Head) {
            return Selector.named(snapshotName);
        }
        return requested;
    }
}
