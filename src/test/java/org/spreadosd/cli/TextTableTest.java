package org.spreadosd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextTableTest {
    @Test
    void columnsArePaddedToTheirWidestCellAndMissingCellsShowADash() {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("nid", 0);
        a.put("name", "ds0");
        a.put("state", "active");
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("nid", 12);
        b.put("name", "a-long-name");
        b.put("state", null);
        assertEquals("""
                nid  name         state
                0    ds0          active
                12   a-long-name  -
                """, TextTable.render(List.of("nid", "name", "state"), List.of(a, b)));
    }
}
