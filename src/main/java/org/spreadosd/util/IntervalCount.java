package org.spreadosd.util;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts an event that can come thousands of times a second (connections refused in a flood, accepts failing for
 * want of file descriptors) and says when the one log line per interval about it is due: the first at once, then at
 * most one per interval, with the count since the last. Writing a line for each would let a flood fill the disk.
 */
public final class IntervalCount {
    private final long intervalNanos;
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong lastLine = new AtomicLong(System.nanoTime() - Long.MAX_VALUE / 2);

    public IntervalCount(Duration interval) {
        this.intervalNanos = interval.toNanos();
    }

    /** Counts one event; returns the events since the last line when a line is due now, else 0. */
    public long countAndDue() {
        count.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLine.get();
        if (now - last >= intervalNanos && lastLine.compareAndSet(last, now)) {
            return count.getAndSet(0);
        }
        return 0;
    }

    public long intervalSeconds() {
        return intervalNanos / 1_000_000_000L;
    }
}
