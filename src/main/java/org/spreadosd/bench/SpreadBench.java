package org.spreadosd.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import org.spreadosd.util.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spread-bench}: writes objects of one size at a given concurrency, then reads random ones
 * back and checks every byte, and reports requests/s, MB/s and latency percentiles of each phase.
 */
@Command(
        name = "spread-bench",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description =
                "Load a SpreadOSD gateway: PUT --count objects of --size bytes with --concurrency workers, then GET as"
                        + " many random ones of them and check every byte. Exit status: 0 no errors, 1 errors, 2 usage.",
        footer = {
            "",
            "Keys are bench/<run id>/<n>, and an object's bytes follow from its key: reads are checked without"
                    + " keeping the objects. --read-only --run-id ID --count N --size S reads back an earlier run."
        })
public final class SpreadBench implements Callable<Integer> {
    /**
     * About a minute of PUT plus GET for 1 KiB objects over either protocol, with client and server
     * on one two-core machine (measured: PUT 160 to 300 requests/s, GET about 420).
     */
    static final int DEFAULT_COUNT = 10_000;
    /** Objects over 200 KiB: about this many bytes in all, which takes about as long (PUT and GET near 90 MB/s). */
    static final long DEFAULT_BYTES = 2L << 30;

    static final int MIN_DEFAULT_COUNT = 4;
    /** Set by scripts/spread-bench when standard error is a terminal (the JVM cannot tell). */
    static final String STDERR_TTY_VARIABLE = "SPREAD_BENCH_STDERR_TTY";

    enum Protocol {
        http(18080),
        rpc(18900);

        final int defaultPort;

        Protocol(int defaultPort) {
            this.defaultPort = defaultPort;
        }
    }

    @Option(names = "--host", paramLabel = "HOST", description = "gateway address (default ${DEFAULT-VALUE})")
    String host = "127.0.0.1";

    @Option(names = "--port", paramLabel = "PORT", description = "default 18080 for http, 18900 for rpc")
    Integer port;

    @Option(
            names = "--protocol",
            paramLabel = "http|rpc",
            description = "PUT/GET /data/<key>, or add_data/get_data (default ${DEFAULT-VALUE})")
    Protocol protocol = Protocol.http;

    @Option(
            names = "--size",
            paramLabel = "BYTES",
            converter = ByteSize.class,
            description = "object size; suffixes K, M, G are powers of 1024 (default 1K)")
    long size = 1024;

    @Option(
            names = "--concurrency",
            paramLabel = "N",
            description = "workers, each with one connection (default ${DEFAULT-VALUE})")
    int concurrency = 16;

    @Option(
            names = "--count",
            paramLabel = "N",
            description =
                    "objects to PUT, and GETs to make (default 10000; 2 GiB worth, at least 4, for objects over 200 KiB;"
                            + " no limit with --duration)")
    Integer count;

    @Option(
            names = "--duration",
            paramLabel = "SECONDS",
            description = "end each phase after this long (with --count: whichever comes first)")
    Integer durationSeconds;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            description = "connect and answer timeout of a request (default ${DEFAULT-VALUE})")
    int timeoutSeconds = 60;

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(
            names = "--run-id",
            paramLabel = "ID",
            description = "the <run id> of the keys (default: random, so runs never collide)")
    String runId;

    @Option(names = "--read-only", description = "skip the PUT phase: GET the objects of an earlier --run-id")
    boolean readOnly;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Whether progress may rewrite its line; tests set it, the script tells it through the environment. */
    boolean stderrIsTty = System.getenv(STDERR_TTY_VARIABLE) != null;

    public static void main(String[] argv) {
        System.exit(commandLine(new SpreadBench()).execute(argv));
    }

    static CommandLine commandLine(SpreadBench bench) {
        CommandLine cli = new CommandLine(bench).setCaseInsensitiveEnumValuesAllowed(true);
        // the mistake in one line; the whole usage would scroll it away
        cli.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("spread-bench: " + e.getMessage() + "; see spread-bench --help");
            return CommandLine.ExitCode.USAGE;
        });
        // whatever goes wrong unexpectedly, one line and not a stack trace
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("spread-bench: " + OperationFailed.reason(e));
            return 1;
        });
        return cli;
    }

    @Override
    public Integer call() throws InterruptedException {
        checkUsage();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int targetPort = port != null ? port : protocol.defaultPort;
        String run = runId != null ? runId : randomRunId();
        Target target = protocol == Protocol.http
                ? new HttpTarget(host, targetPort, Duration.ofSeconds(timeoutSeconds))
                : new RpcTarget(host, targetPort, timeoutSeconds * 1000);
        String unreachable = unreachable(targetPort);
        if (unreachable != null) {
            err.println("spread-bench: cannot connect to " + target.describe() + ": " + unreachable);
            return 1;
        }
        long objects = count != null ? count : durationSeconds != null ? -1 : defaultCount(size);
        Duration limit = durationSeconds == null ? null : Duration.ofSeconds(durationSeconds);
        LoadRun load = new LoadRun(target, concurrency, size, err, stderrIsTty);

        PhaseResult put = null;
        WrittenObjects written;
        if (readOnly) {
            written = WrittenObjects.first(count);
        } else {
            WrittenObjects stored = new WrittenObjects();
            put = load.phase("PUT", objects, limit, (connection, n) -> {
                connection.put(key(run, n), content(run, n));
                stored.add((int) n);
            });
            written = stored;
        }
        int[] readable = written.toArray();
        PhaseResult get = readable.length == 0
                ? null
                : load.phase("GET", objects, limit, (connection, ordinal) -> {
                    int n = readable[ThreadLocalRandom.current().nextInt(readable.length)];
                    connection.getAndVerify(key(run, n), content(run, n));
                });

        BenchReport report = new BenchReport(
                new BenchReport.Setup(protocol.name(), host, targetPort, run, size, concurrency), put, get);
        out.print(json ? report.json() + "\n" : report.text());
        out.flush();
        report.errorLines().forEach(line -> err.println("spread-bench: " + line));
        err.flush();
        return report.errors() == 0 ? 0 : 1;
    }

    /** 48 random bits: two runs meet once in some 10^14 pairs. */
    private static String randomRunId() {
        byte[] bits = new byte[6];
        new SecureRandom().nextBytes(bits);
        return HexFormat.of().formatHex(bits);
    }

    static int defaultCount(long size) {
        return (int) Math.max(MIN_DEFAULT_COUNT, Math.min(DEFAULT_COUNT, DEFAULT_BYTES / size));
    }

    private static String key(String run, long n) {
        return "bench/" + run + "/" + n;
    }

    private ObjectContent content(String run, long n) {
        return new ObjectContent(key(run, n), size);
    }

    private void checkUsage() {
        require(concurrency >= 1, "--concurrency must be at least 1");
        require(count == null || count >= 1, "--count must be at least 1");
        require(durationSeconds == null || durationSeconds >= 1, "--duration must be at least 1 second");
        require(timeoutSeconds >= 1 && timeoutSeconds <= 86_400, "--timeout must be 1 to 86400 seconds");
        require(port == null || (port >= 1 && port <= 65535), "--port must be 1 to 65535");
        require(runId == null || runId.matches("[A-Za-z0-9_-]{1,64}"), "--run-id takes letters, digits, '-' and '_'");
        require(
                !readOnly || (runId != null && count != null),
                "--read-only needs the --run-id and --count of the run that wrote");
    }

    private void require(boolean ok, String message) {
        if (!ok) {
            throw new CommandLine.ParameterException(spec.commandLine(), message);
        }
    }

    /** Null when something listens at the target, else why not: a refused run would be all errors and no figures. */
    private String unreachable(int targetPort) {
        try (Socket probe = new Socket()) {
            probe.connect(new InetSocketAddress(host, targetPort), timeoutSeconds * 1000);
            return null;
        } catch (UnknownHostException e) {
            return "unknown host";
        } catch (IOException e) {
            return OperationFailed.reason(e) + " (is the server running, and is this its " + protocol + " port?)";
        }
    }
}
