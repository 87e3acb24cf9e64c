package org.spreadosd.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A run's results, as a table for people or as one JSON object for scripts. */
final class BenchReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double[] PERCENTILES = {50, 90, 99, 99.9};

    /** What was run: "http", "127.0.0.1", 18080, ... */
    record Setup(String protocol, String host, int port, String runId, long objectSize, int concurrency) {}

    private final Setup setup;
    /** A phase that did not run (PUT with --read-only, GET when nothing was written) is null. */
    private final PhaseResult put;

    private final PhaseResult get;

    BenchReport(Setup setup, PhaseResult put, PhaseResult get) {
        this.setup = setup;
        this.put = put;
        this.get = get;
    }

    long errors() {
        return (put == null ? 0 : put.errors()) + (get == null ? 0 : get.errors());
    }

    String json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("protocol", setup.protocol());
        root.put("host", setup.host());
        root.put("port", setup.port());
        root.put("run_id", setup.runId());
        root.put("size", setup.objectSize());
        root.put("concurrency", setup.concurrency());
        root.put("put", put == null ? null : phaseJson(put));
        root.put("get", get == null ? null : phaseJson(get));
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("numbers and strings always serialize", e);
        }
    }

    private static Map<String, Object> phaseJson(PhaseResult phase) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", phase.count());
        m.put("errors", phase.errors());
        // To the microsecond, so that count / seconds gives requests_per_sec back even for a phase of a few ms.
        m.put("seconds", Math.round(phase.seconds() * 1e6) / 1e6);
        m.put("requests_per_sec", round(phase.requestsPerSecond()));
        m.put("mb_per_sec", round(phase.megabytesPerSecond()));
        for (double p : PERCENTILES) {
            m.put("p" + label(p).replace(".", "") + "_ms", phase.millisAt(p));
        }
        m.put("max_ms", phase.maxMillis());
        return m;
    }

    String text() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(
                Locale.ROOT,
                "%s %s:%d, objects of %s, concurrency %d, run %s%n%n",
                setup.protocol(),
                setup.host(),
                setup.port(),
                ByteSize.describe(setup.objectSize()),
                setup.concurrency(),
                setup.runId()));
        List<String> header = new ArrayList<>(List.of("phase", "requests", "errors", "seconds", "req/s", "MB/s"));
        for (double p : PERCENTILES) {
            header.add("p" + label(p) + " ms");
        }
        header.add("max ms");
        List<List<String>> rows = new ArrayList<>();
        rows.add(header);
        for (PhaseResult phase : new PhaseResult[] {put, get}) {
            if (phase != null) {
                rows.add(phaseRow(phase));
            }
        }
        appendAligned(out, rows);
        if (get == null && put != null) {
            out.append("GET skipped: no object was written\n");
        }
        return out.toString();
    }

    private static List<String> phaseRow(PhaseResult phase) {
        List<String> row = new ArrayList<>(List.of(
                phase.name(),
                Long.toString(phase.count()),
                Long.toString(phase.errors()),
                fixed(phase.seconds(), 2),
                fixed(phase.requestsPerSecond(), 1),
                fixed(phase.megabytesPerSecond(), 2)));
        for (double p : PERCENTILES) {
            row.add(millis(phase.millisAt(p)));
        }
        row.add(millis(phase.maxMillis()));
        return row;
    }

    /** Lines like "PUT: HTTP 503 ..." for the first errors of each phase, for standard error. */
    List<String> errorLines() {
        List<String> lines = new ArrayList<>();
        for (PhaseResult phase : new PhaseResult[] {put, get}) {
            if (phase != null && phase.errors() > 0) {
                lines.add(phase.name() + ": " + phase.errors() + " errors"
                        + (phase.errors() > phase.firstErrors().size() ? ", the first:" : ":"));
                phase.firstErrors().forEach(e -> lines.add("  " + e));
            }
        }
        return lines;
    }

    private static void appendAligned(StringBuilder out, List<List<String>> rows) {
        int[] widths = new int[rows.get(0).size()];
        for (List<String> row : rows) {
            for (int i = 0; i < widths.length; i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                // names left, numbers right, as in any table of figures
                String cell = row.get(i);
                String pad = " ".repeat(widths[i] - cell.length());
                line.append(i == 0 ? "" : "  ").append(i == 0 ? cell + pad : pad + cell);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }

    private static String label(double percentile) {
        return percentile == Math.rint(percentile) ? Long.toString((long) percentile) : Double.toString(percentile);
    }

    private static String millis(Double ms) {
        return ms == null ? "-" : fixed(ms, 3);
    }

    private static String fixed(double value, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    /** Microsecond resolution is three decimals of a millisecond; more would be noise. */
    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
