package org.spreadosd.gw;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * Chooses the replication-set of a new key: smooth weighted round-robin over the sets that can take
 * writes (weight above 0 and enough members that are neither FAULT nor unreachable to meet the set's
 * write policy), so sets get new keys in proportion to their weights
 * and evenly interleaved. While some of those sets have every member live, only they get new keys: a
 * degraded set that could still meet its policy would give a new key fewer copies than a whole one.
 */
public final class Placement {
    private final Map<Integer, Long> credit = new HashMap<>();

    public int next(ClusterConfig config) {
        return next(config, node -> true);
    }

    /** @param reachable whether a member is reachable now: a set whose members all are not takes no new keys */
    public int next(ClusterConfig config, Predicate<NodeInfo> reachable) {
        return next(config, reachable, Set.of());
    }

    /** @param avoid sets this add already failed on (their coordinator could not meet the policy) */
    public synchronized int next(ClusterConfig config, Predicate<NodeInfo> reachable, Set<Integer> avoid) {
        List<Integer> writable = config.rsids().stream()
                .filter(rsid -> config.weight(rsid) > 0 && !avoid.contains(rsid))
                .filter(rsid -> canWrite(config, rsid, reachable))
                .toList();
        List<Integer> whole = writable.stream()
                .filter(rsid -> isWhole(config, rsid, reachable))
                .toList();
        if (!whole.isEmpty()) {
            writable = whole;
        }
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

    /** Whether some set not in {@code avoid} can take a new key now. */
    public static boolean canPlace(ClusterConfig config, Predicate<NodeInfo> reachable, Set<Integer> avoid) {
        return config.rsids().stream()
                .anyMatch(
                        rsid -> config.weight(rsid) > 0 && !avoid.contains(rsid) && canWrite(config, rsid, reachable));
    }

    /** Whether every member of the set is neither FAULT nor unreachable. */
    static boolean isWhole(ClusterConfig config, int rsid, Predicate<NodeInfo> reachable) {
        return config.members(rsid).stream().allMatch(n -> !config.isFault(n.nid()) && reachable.test(n));
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
