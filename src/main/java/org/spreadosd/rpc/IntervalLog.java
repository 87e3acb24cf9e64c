package org.spreadosd.rpc;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * One log line per interval for an event that can come thousands of times a second (connections refused or evicted
 * in a flood): the first at once, then at most one per interval with the count since the last line and the latest
 * reason. Writing each would let a flood fill the disk with the log.
 */
final class IntervalLog {
    private final Logger log;
    private final String what;
    private final long intervalNanos;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong lastLine = new AtomicLong(System.nanoTime() - Long.MAX_VALUE / 2);

    /** @param what the event as the line names it, e.g. "MessagePack-RPC connections refused" */
    IntervalLog(Logger log, String what, Duration interval) {
        this.log = log;
        this.what = what;
        this.intervalNanos = interval.toNanos();
    }

    void note(String reason) {
        long n = count.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLine.get();
        if (now - last >= intervalNanos && lastLine.compareAndSet(last, now)) {
            long since = count.getAndSet(0);
            log.warn("{} {} in the last {} s (latest: {})", since, what, intervalNanos / 1_000_000_000L, reason);
        } else if (n < 0) {
            count.set(0);
        }
    }
}
