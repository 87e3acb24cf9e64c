package org.spreadosd.bench;

import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * What one phase measured. {@code count} is the requests that succeeded; failed ones are only in
 * {@code errors}, and only successful ones are in the latency histogram (microseconds).
 */
record PhaseResult(
        String name,
        long count,
        long errors,
        double seconds,
        long objectSize,
        Histogram latency,
        List<String> firstErrors) {

    double requestsPerSecond() {
        return seconds > 0 ? count / seconds : 0;
    }

    double megabytesPerSecond() {
        return requestsPerSecond() * objectSize / 1e6;
    }

    /** The latency at a percentile in milliseconds, or null when nothing succeeded. */
    Double millisAt(double percentile) {
        return count == 0 ? null : latency.getValueAtPercentile(percentile) / 1000.0;
    }

    Double maxMillis() {
        return count == 0 ? null : latency.getMaxValue() / 1000.0;
    }
}
