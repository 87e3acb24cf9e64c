package org.spreadosd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.spreadosd.gw.Placement;

class WritePolicyTest {
    @Test
    void policiesNeedTheirCopies() {
        assertEquals(2, WritePolicy.parse("majority").required(3));
        assertEquals(3, WritePolicy.parse("majority").required(4));
        assertEquals(2, WritePolicy.parse("2").required(3));
        assertFalse(WritePolicy.parse("majority").canWrite(3, 1));
        assertTrue(WritePolicy.parse("majority").canWrite(3, 2));
        assertFalse(WritePolicy.parse("3").canWrite(2, 2), "a number beyond the set's size is never met");
    }

    /** The partition case of issue 13: one member of two reachable is no reason to acknowledge a single copy. */
    @Test
    void allReachableNeedsTwoCopiesWhereTheSetHasTwoMembers() {
        WritePolicy policy = WritePolicy.parse("all-reachable");
        assertEquals(WritePolicy.DEFAULT, policy);
        assertEquals(2, policy.required(2));
        assertEquals(2, policy.required(3));
        assertFalse(policy.canWrite(2, 1), "the other member unreachable: refused, not one copy");
        assertTrue(policy.canWrite(2, 2));
        assertTrue(policy.canWrite(3, 2), "one member of three down: two copies still");
        assertFalse(policy.canWrite(3, 1));
        assertEquals(1, policy.required(1), "a set of one member cannot hold two copies");
        assertTrue(policy.canWrite(1, 1));
        assertFalse(policy.canWrite(1, 0), "at least one copy, always");
    }

    @Test
    void allReachableTakesAnExplicitMinimum() {
        WritePolicy single = WritePolicy.parse("all-reachable:1");
        assertEquals("all-reachable:1", single.text());
        assertTrue(single.waitsForAllReachable());
        assertEquals(1, single.required(2));
        assertTrue(single.canWrite(2, 1), "single copies by the operator's explicit choice");
        WritePolicy three = WritePolicy.parse("all-reachable:3");
        assertEquals(3, three.required(5));
        assertEquals(2, three.required(2), "capped at the set's size");
        assertFalse(three.canWrite(5, 2));
        assertEquals(WritePolicy.DEFAULT, WritePolicy.parse("all-reachable:2"), "the default spelled out");
        assertEquals(WritePolicy.DEFAULT, WritePolicy.parse(" all-reachable "));
        assertFalse(WritePolicy.parse("2").waitsForAllReachable());
    }

    @Test
    void nonsenseIsRefusedWithTheChoices() {
        for (String bad : List.of("0", "-1", "most", "2x", "all-reachable:0", "all-reachable:", "all-reachable:x")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WritePolicy.parse(bad));
            assertTrue(e.getMessage().contains("all-reachable, all-reachable:K"), e.getMessage());
        }
    }

    @Test
    void placementSkipsASetThatCannotMeetItsPolicyAndTheConfigurationKeepsIt() {
        NodeInfo a = new NodeInfo(0, "a", "h:1", List.of(0), "l", "http://h:2", null);
        NodeInfo b = new NodeInfo(1, "b", "h:3", List.of(0), "l", "http://h:4", null);
        NodeInfo c = new NodeInfo(2, "c", "h:5", List.of(1), "l", "http://h:6", null);
        ClusterConfig config = new ClusterConfig(1, List.of(a, b, c), Map.of(), Set.of()).withWritePolicy(0, "2");
        assertEquals("2", config.writePolicy(0).text());
        assertEquals(WritePolicy.DEFAULT, config.writePolicy(1));
        Placement placement = new Placement();
        for (int i = 0; i < 10; i++) {
            assertEquals(1, placement.next(config, n -> n.nid() != 1), "set 0 has one of its two required members");
        }
        assertTrue(Placement.canWrite(config, 0, n -> true));
        assertEquals(WritePolicy.DEFAULT, config.withWritePolicy(0, null).writePolicy(0), "reset");
    }
}
