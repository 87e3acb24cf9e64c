package org.spreadosd.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Runs the phases of a benchmark against one target: a fixed number of workers, each with a
 * connection of its own doing one blocking request after another, until the phase's count or time
 * is used up.
 */
final class LoadRun {
    /** One request of a phase; {@code ordinal} counts the phase's requests from 0. */
    interface Operation {
        void perform(Target.Connection connection, long ordinal) throws IOException;
    }

    private static final int ERRORS_KEPT = 5;

    private final Target target;
    private final int concurrency;
    private final long objectSize;
    private final PrintWriter progressOut;
    private final boolean tty;

    LoadRun(Target target, int concurrency, long objectSize, PrintWriter progressOut, boolean tty) {
        this.target = target;
        this.concurrency = concurrency;
        this.objectSize = objectSize;
        this.progressOut = progressOut;
        this.tty = tty;
    }

    /**
     * @param count the requests to make, or negative for as many as {@code limit} allows
     * @param limit how long the phase may run, or null for no limit
     */
    PhaseResult phase(String name, long count, Duration limit, Operation operation) throws InterruptedException {
        Phase phase = new Phase(count, limit, operation);
        ExecutorService workers = Executors.newFixedThreadPool(concurrency, r -> {
            Thread t = new Thread(r, "bench-" + name.toLowerCase());
            t.setDaemon(true);
            return t;
        });
        Histogram latency = new Histogram(3);
        try (ProgressLine progress =
                new ProgressLine(progressOut, tty, name, count, limit, objectSize, phase.done, phase.failed)) {
            List<Future<Histogram>> running = new ArrayList<>();
            for (int i = 0; i < concurrency; i++) {
                running.add(workers.submit(phase::work));
            }
            for (Future<Histogram> worker : running) {
                latency.add(worker.get());
            }
        } catch (ExecutionException e) {
            // a bug, not a failed request: let it end the run
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } finally {
            workers.shutdownNow();
        }
        double seconds = (System.nanoTime() - phase.start) / 1e9;
        return new PhaseResult(
                name, phase.done.sum(), phase.failed.sum(), seconds, objectSize, latency, phase.firstErrors());
    }

    private final class Phase {
        final long start = System.nanoTime();
        final long count;
        final boolean timed;
        final long deadline;
        final Operation operation;
        final AtomicLong next = new AtomicLong();
        final LongAdder done = new LongAdder();
        final LongAdder failed = new LongAdder();
        final List<String> firstErrors = Collections.synchronizedList(new ArrayList<>());

        Phase(long count, Duration limit, Operation operation) {
            this.count = count < 0 ? Long.MAX_VALUE : count;
            this.timed = limit != null;
            this.deadline = timed ? start + limit.toNanos() : 0;
            this.operation = operation;
        }

        /** One worker's requests; answers their latencies. */
        Histogram work() {
            Histogram latency = new Histogram(3);
            try (Target.Connection connection = target.open()) {
                for (long n; (n = claim()) >= 0; ) {
                    long begin = System.nanoTime();
                    try {
                        operation.perform(connection, n);
                        // microsecond resolution; a sub-microsecond answer still counts as one
                        latency.recordValue(Math.max(1, (System.nanoTime() - begin) / 1000));
                        done.increment();
                    } catch (IOException e) {
                        failed.increment();
                        if (firstErrors.size() < ERRORS_KEPT) {
                            firstErrors.add(e.getMessage());
                        }
                    }
                }
            }
            return latency;
        }

        /** The next request's ordinal, or -1 when the phase is over. */
        long claim() {
            if (timed && System.nanoTime() - deadline >= 0) {
                return -1;
            }
            long n = next.getAndIncrement();
            return n < count ? n : -1;
        }

        List<String> firstErrors() {
            synchronized (firstErrors) {
                return List.copyOf(firstErrors.subList(0, Math.min(ERRORS_KEPT, firstErrors.size())));
            }
        }
    }
}
