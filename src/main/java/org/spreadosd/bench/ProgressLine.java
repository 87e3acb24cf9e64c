package org.spreadosd.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Once a second, how far a phase is, on standard error: rewritten in place with {@code \r} on a
 * terminal, one line a second otherwise (a log file would fill with {@code \r} otherwise).
 */
final class ProgressLine implements AutoCloseable {
    private final PrintWriter err;
    private final boolean tty;
    private final String phase;
    private final long total;
    private final Duration limit;
    private final long objectSize;
    private final LongAdder done;
    private final LongAdder failed;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-progress");
        t.setDaemon(true);
        return t;
    });
    private long lastDone;
    private long lastTime = start;
    private int lastWidth;
    private boolean closed;

    /** @param total the phase's count, or a negative number when only its time limit ends it */
    ProgressLine(
            PrintWriter err,
            boolean tty,
            String phase,
            long total,
            Duration limit,
            long objectSize,
            LongAdder done,
            LongAdder failed) {
        this.err = err;
        this.tty = tty;
        this.phase = phase;
        this.total = total;
        this.limit = limit;
        this.objectSize = objectSize;
        this.done = done;
        this.failed = failed;
        timer.scheduleAtFixedRate(this::print, 1, 1, TimeUnit.SECONDS);
    }

    private synchronized void print() {
        if (closed) {
            return;
        }
        long now = System.nanoTime();
        long ok = done.sum();
        double rate = (ok - lastDone) / ((now - lastTime) / 1e9);
        lastDone = ok;
        lastTime = now;
        String text = String.format(
                "%s %d%s done, %d errors, %.0f req/s, %.2f MB/s, %d%s s",
                phase,
                ok,
                total >= 0 ? "/" + total : "",
                failed.sum(),
                rate,
                rate * objectSize / 1e6,
                Duration.ofNanos(now - start).toSeconds(),
                limit == null ? "" : "/" + limit.toSeconds());
        if (tty) {
            err.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
            lastWidth = text.length();
        } else {
            err.println(text);
        }
        err.flush();
    }

    @Override
    public synchronized void close() {
        closed = true;
        timer.shutdownNow();
        if (tty && lastWidth > 0) {
            // the report follows on a clean line
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            err.flush();
        }
    }
}
