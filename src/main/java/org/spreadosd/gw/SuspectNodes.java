package org.spreadosd.gw;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
}
