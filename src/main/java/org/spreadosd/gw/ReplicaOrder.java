package org.spreadosd.gw;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;

/**
 * The order in which a gateway tries the members of a set for one key: members of its own location
 * first, then a per-key order (rendezvous hash) so that load spreads over members while each key
 * keeps hitting the same member's cache. FAULT members are left out.
 */
public final class ReplicaOrder {
    private ReplicaOrder() {}

    public static List<NodeInfo> of(ClusterConfig config, int rsid, byte[] key, String myLocation) {
        int keyHash = Arrays.hashCode(key);
        return config.members(rsid).stream()
                .filter(n -> !config.isFault(n.nid()))
                .sorted(Comparator.<NodeInfo>comparingInt(n -> n.location().equals(myLocation) ? 0 : 1)
                        .thenComparingLong(n -> mix(keyHash, n.nid())))
                .toList();
    }

    private static long mix(int keyHash, int nid) {
        long h = ByteBuffer.allocate(8).putInt(keyHash).putInt(nid).getLong(0);
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        return h;
    }
}
