package org.spreadosd.gw;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.spreadosd.cluster.NodeInfo;

/**
 * Data servers this gateway failed to reach a moment ago. They are tried last for a while, so reads
 * do not queue behind the HTTP pool's reconnect back-off of a dead node; once the quiet period is over
 * they are tried again in their normal place.
 */
public final class SuspectNodes {
    private final Map<Integer, Long> suspectUntil = new ConcurrentHashMap<>();
    private final long quietMillis;

    public SuspectNodes(Duration quiet) {
        this.quietMillis = quiet.toMillis();
    }

    public void failed(int nid) {
        suspectUntil.put(nid, System.currentTimeMillis() + quietMillis);
    }

    public void answered(int nid) {
        suspectUntil.remove(nid);
    }

    public boolean isSuspect(int nid) {
        Long until = suspectUntil.get(nid);
        if (until == null) {
            return false;
        }
        if (until < System.currentTimeMillis()) {
            suspectUntil.remove(nid, until);
            return false;
        }
        return true;
    }

    /** The same members, suspects moved to the end (stable otherwise). */
    public List<NodeInfo> lastIfSuspect(List<NodeInfo> order) {
        return order.stream().sorted(Comparator.comparingInt(n -> isSuspect(n.nid()) ? 1 : 0)).toList();
    }
}
