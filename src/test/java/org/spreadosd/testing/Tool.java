package org.spreadosd.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A command-line tool (curl, or one of scripts/) run to its end, with its exit code and outputs. */
public final class Tool {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger RUNS = new AtomicInteger();

    public record Result(List<String> command, int exitCode, byte[] stdout, String stderr) {
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return command + " -> exit " + exitCode + ", stdout [" + out() + "], stderr [" + stderr + "]";
        }
    }

    private Tool() {}

    /** The path of a command of this installation's scripts/ directory. */
    public static String script(String name) {
        return Path.of(System.getProperty("spread.home", "."))
                .toAbsolutePath()
                .resolve("scripts")
                .resolve(name)
                .toString();
    }

    /** {@code scripts/spreadctl [--json] 127.0.0.1:<csPort> <args>}; a leading "--json" goes before the address. */
    public static Result spreadctl(Path workDir, int csPort, String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>();
        boolean json = args.length > 0 && args[0].equals("--json");
        if (json) {
            all.add("--json");
        }
        all.add("127.0.0.1:" + csPort);
        all.addAll(List.of(args).subList(json ? 1 : 0, args.length));
        return run(workDir, script("spreadctl"), all.toArray(String[]::new));
    }

    public static Result run(Path workDir, String program, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(program);
        cmd.addAll(List.of(args));
        int n = RUNS.incrementAndGet();
        Path out = workDir.resolve("tool-" + n + ".out");
        Path err = workDir.resolve("tool-" + n + ".err");
        Process p = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        try {
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail(program + " did not finish within " + TIMEOUT + ": " + cmd);
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
        return new Result(cmd, p.exitValue(), Files.readAllBytes(out), Files.readString(err));
    }
}
