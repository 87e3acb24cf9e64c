package org.spreadosd.rpc;

import java.time.Duration;
import org.slf4j.Logger;
import org.spreadosd.util.IntervalCount;

/**
 * One log line per interval for an event that can come thousands of times a second (connections refused or evicted
 * in a flood): the first at once, then at most one per interval with the count since the last line and the latest
 * reason. Writing each would let a flood fill the disk with the log.
 */
final class IntervalLog {
    private final Logger log;
    private final String what;
    private final IntervalCount count;

    /** @param what the event as the line names it, e.g. "MessagePack-RPC connections refused" */
    IntervalLog(Logger log, String what, Duration interval) {
        this.log = log;
        this.what = what;
        this.count = new IntervalCount(interval);
    }

    void note(String reason) {
        long since = count.countAndDue();
        if (since > 0) {
            log.warn("{} {} in the last {} s (latest: {})", since, what, count.intervalSeconds(), reason);
        }
    }
}
