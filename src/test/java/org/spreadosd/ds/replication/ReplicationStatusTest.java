package org.spreadosd.ds.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.util.Map;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.spreadosd.ds.replication.ReplicationStatus.PeerSync;

class ReplicationStatusTest {
    @Test
    void theSlowestPeerOfEachSetCountsAndJmxShowsTheSameFigures() throws Exception {
        ReplicationStatus status = new ReplicationStatus();
        status.set(0, 1, new PeerSync(PeerSync.CATCHING_UP, 30, 3000, 5, 500, 0, null));
        status.set(0, 2, new PeerSync(PeerSync.IN_SYNC, 0, 0, 1, 100, 0, null));
        status.set(1, 3, new PeerSync(PeerSync.BOOTSTRAPPING, 7, 700, 9, 900, 42, null));
        status.repaired.incrementAndGet();
        assertEquals("bootstrapping 42%", status.summary());
        assertEquals(37, status.versionsBehind());
        Map<String, Object> stat = status.toMap();
        assertEquals(37L, stat.get("versions_behind"));
        assertEquals(42L, ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) stat.get("sets")).get("1")).get("3")).get("percent"));

        status.registerMBean();
        var server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName(ReplicationStatus.MBEAN_NAME);
        assertEquals("bootstrapping 42%", server.getAttribute(name, "State"));
        assertEquals(37L, server.getAttribute(name, "VersionsBehind"));
        assertEquals(3700L, server.getAttribute(name, "BytesBehind"));
        assertEquals(1L, server.getAttribute(name, "Repaired"));

        status.set(1, 3, new PeerSync(PeerSync.IN_SYNC, 0, 0, 9, 900, 0, null));
        status.set(0, 1, new PeerSync(PeerSync.IN_SYNC, 0, 0, 5, 500, 0, null));
        assertEquals("in-sync", server.getAttribute(name, "State"));
    }
}
