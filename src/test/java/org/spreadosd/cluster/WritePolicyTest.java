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
        assertEquals(1, WritePolicy.parse("all-reachable").required(3));
        assertEquals(2, WritePolicy.parse("majority").required(3));
        assertEquals(3, WritePolicy.parse("majority").required(4));
        assertEquals(2, WritePolicy.parse("2").required(3));
        assertTrue(WritePolicy.DEFAULT.canWrite(3, 1));
        assertFalse(WritePolicy.DEFAULT.canWrite(3, 0), "at least one copy, always");
        assertFalse(WritePolicy.parse("majority").canWrite(3, 1));
        assertTrue(WritePolicy.parse("majority").canWrite(3, 2));
    }

    @Test
    void nonsenseIsRefusedWithTheChoices() {
        for (String bad : List.of("0", "-1", "most", "2x")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WritePolicy.parse(bad));
            assertTrue(e.getMessage().contains("all-reachable, majority or a number"), e.getMessage());
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
