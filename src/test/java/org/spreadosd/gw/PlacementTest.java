package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;

class PlacementTest {
    static NodeInfo node(int nid, int rsid, String location) {
        return new NodeInfo(nid, "ds" + nid, "h:" + nid, List.of(rsid), location, "http://h:" + nid, null);
    }

    static ClusterConfig config(Map<Integer, Integer> weights, Set<Integer> fault, NodeInfo... nodes) {
        return new ClusterConfig(1, List.of(nodes), weights, fault);
    }

    @Test
    void newKeysSpreadInProportionToWeights() {
        ClusterConfig c =
                config(Map.of(0, 10, 1, 30, 2, 0), Set.of(), node(0, 0, "a"), node(1, 1, "a"), node(2, 2, "a"));
        Placement p = new Placement();
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            counts.merge(p.next(c), 1, Integer::sum);
        }
        assertEquals(100, counts.get(0));
        assertEquals(300, counts.get(1));
        assertEquals(null, counts.get(2), "weight 0 takes no new keys");
    }

    @Test
    void setsWithoutALiveMemberTakeNoWrites() {
        ClusterConfig c = config(Map.of(), Set.of(0), node(0, 0, "a"), node(1, 1, "a"));
        Placement p = new Placement();
        for (int i = 0; i < 10; i++) {
            assertEquals(1, p.next(c));
        }
        ClusterConfig none = config(Map.of(), Set.of(0, 1), node(0, 0, "a"), node(1, 1, "a"));
        SpreadFailure e = assertThrows(SpreadFailure.class, () -> p.next(none));
        assertEquals(FailureCode.UNAVAILABLE, e.code());
        assertEquals(503, e.httpStatus());
    }

    @Test
    void newKeysGoToWholeSetsWhileThereAreAny() {
        ClusterConfig c = config(
                Map.of(),
                Set.of(),
                node(0, 0, "a"),
                node(1, 0, "a"),
                node(2, 0, "a"),
                node(3, 1, "a"),
                node(4, 1, "a"));
        Placement p = new Placement();
        for (int i = 0; i < 10; i++) {
            assertEquals(1, p.next(c, n -> n.nid() != 2), "set 0 could meet its policy with 2 of 3, set 1 is whole");
        }
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            counts.merge(p.next(c, n -> n.nid() != 2 && n.nid() != 4), 1, Integer::sum);
        }
        assertEquals(Map.of(0, 10), counts, "no set is whole: the one that can still meet its policy");
        assertEquals(1, p.next(c, n -> true, Set.of(0)), "a set the add already failed on is avoided");
        SpreadFailure e = assertThrows(SpreadFailure.class, () -> p.next(c, n -> true, Set.of(0, 1)));
        assertEquals(FailureCode.UNAVAILABLE, e.code());
    }

    @Test
    void readOrderPrefersOwnLocationAndSkipsFaults() {
        ClusterConfig c = config(Map.of(), Set.of(3), node(1, 0, "far"), node(2, 0, "near"), node(3, 0, "near"));
        for (int i = 0; i < 20; i++) {
            List<NodeInfo> order = ReplicaOrder.of(c, 0, Keys.utf8("key" + i), "near");
            assertEquals(List.of(2, 1), order.stream().map(NodeInfo::nid).toList());
        }
    }

    @Test
    void readOrderSpreadsKeysOverMembers() {
        ClusterConfig c = config(Map.of(), Set.of(), node(1, 0, "x"), node(2, 0, "x"));
        Map<Integer, Integer> firsts = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            firsts.merge(ReplicaOrder.of(c, 0, Keys.utf8("key" + i), "x").get(0).nid(), 1, Integer::sum);
        }
        assertEquals(2, firsts.size());
        firsts.values().forEach(n -> assertEquals(500, n, 100));
    }
}
