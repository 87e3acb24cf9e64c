package org.spreadosd.model;

import java.time.Clock;

/** Assigns vtimes: whole UNIX seconds, strictly increasing per key. */
public final class VersionClock {
    private final Clock clock;

    public VersionClock(Clock clock) {
        this.clock = clock;
    }

    public static VersionClock system() {
        return new VersionClock(Clock.systemUTC());
    }

    public long nowSeconds() {
        return clock.millis() / 1000;
    }

    /** {@code max(now, newest + 1)}: two adds in the same second still get distinct, ordered vtimes. */
    public long next(Long newestVtime) {
        long now = nowSeconds();
        return newestVtime == null ? now : Math.max(now, newestVtime + 1);
    }
}
