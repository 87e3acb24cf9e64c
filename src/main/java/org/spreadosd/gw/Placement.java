package org.spreadosd.gw;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * Chooses the replication-set of a new key: smooth weighted round-robin over the sets that can take
 * writes (weight above 0 and enough members that are neither FAULT nor unreachable to meet the set's
 * write policy), so sets get new keys in proportion to their weights
 * and evenly interleaved.
 */
public final class Placement {
    private final Map<Integer, Long> credit = new HashMap<>();

    public int next(ClusterConfig config) {
        return next(config, node -> true);
    }

    /** @param reachable whether a member is reachable now: a set whose members all are not takes no new keys */
    public synchronized int next(ClusterConfig config, Predicate<NodeInfo> reachable) {
        List<Integer> writable = config.rsids().stream()
                .filter(rsid -> config.weight(rsid) > 0)
                .filter(rsid -> canWrite(config, rsid, reachable))
                .toList();
        if (writable.isEmpty()) {
            throw new SpreadFailure(
                    FailureCode.UNAVAILABLE,
                    "no replication-set can take writes (no set with weight > 0 and enough live members for its write policy)");
        }
        credit.keySet().retainAll(writable);
        long total = 0;
        int best = writable.get(0);
        for (int rsid : writable) {
            int w = config.weight(rsid);
            total += w;
            long c = credit.merge(rsid, (long) w, Long::sum);
            if (c > credit.get(best)) {
                best = rsid;
            }
        }
        credit.merge(best, -total, Long::sum);
        return best;
    }

    /** Whether enough members of the set are neither FAULT nor unreachable to meet its write policy. */
    public static boolean canWrite(ClusterConfig config, int rsid, Predicate<NodeInfo> reachable) {
        List<NodeInfo> members = config.members(rsid);
        int live = (int) members.stream()
                .filter(n -> !config.isFault(n.nid()) && reachable.test(n))
                .count();
        return config.writePolicy(rsid).canWrite(members.size(), live);
    }
}
