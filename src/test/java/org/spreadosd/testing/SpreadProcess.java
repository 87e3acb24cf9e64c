package org.spreadosd.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@code scripts/} server command as a real process on loopback, its stdout and stderr in one log file. */
public final class SpreadProcess {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(120);
    public static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger RUNS = new AtomicInteger();

    public final Process process;
    public final Path log;
    public final int httpPort;
    /** The MessagePack-RPC port (-p). */
    public final int rpcPort;

    private SpreadProcess(Process process, Path log, int httpPort, int rpcPort) {
        this.rpcPort = rpcPort;
        this.process = process;
        this.log = log;
        this.httpPort = httpPort;
    }

    /** {@code scripts/spread-standalone} on loopback and free ports, with the HTTP API on {@code httpPort}. */
    public static SpreadProcess start(Path workDir, Path store, int httpPort, Map<String, String> env)
            throws IOException {
        return standalone(workDir, List.of(), store, httpPort, env);
    }

    /**
     * {@code scripts/spread-standalone} as {@link #start} does, in a shell that first lowers its limit of open files
     * ({@code ulimit -n openFiles}): for what a node does when it runs out of file descriptors.
     */
    public static SpreadProcess startWithFileLimit(
            Path workDir, Path store, int httpPort, Map<String, String> env, int openFiles) throws IOException {
        return standalone(
                workDir,
                List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$0\" \"$@\""),
                store,
                httpPort,
                env);
    }

    private static SpreadProcess standalone(
            Path workDir, List<String> prefix, Path store, int httpPort, Map<String, String> env) throws IOException {
        int rpcPort = FreePorts.next();
        return command(
                workDir,
                prefix,
                "spread-standalone",
                List.of(
                        "-s", store.toString(),
                        "-l", "127.0.0.1",
                        "-p", String.valueOf(rpcPort),
                        "--data-port", String.valueOf(FreePorts.next()),
                        "--cluster-port", String.valueOf(FreePorts.next()),
                        "--management-port", String.valueOf(FreePorts.next()),
                        "--http", String.valueOf(httpPort)),
                env,
                httpPort,
                rpcPort);
    }

    /** Any server command of {@code scripts/} with the arguments given, run in {@code workDir}. */
    public static SpreadProcess command(
            Path workDir, String script, List<String> args, Map<String, String> env, int httpPort, int rpcPort)
            throws IOException {
        return command(workDir, List.of(), script, args, env, httpPort, rpcPort);
    }

    private static SpreadProcess command(
            Path workDir,
            List<String> prefix,
            String script,
            List<String> args,
            Map<String, String> env,
            int httpPort,
            int rpcPort)
            throws IOException {
        Path home = Path.of(System.getProperty("spread.home", ".")).toAbsolutePath();
        Path path = home.resolve("scripts").resolve(script);
        assertTrue(Files.isExecutable(path), () -> path + " is not executable");
        assertTrue(
                Files.isRegularFile(home.resolve("target/spreadosd.jar")),
                "target/spreadosd.jar missing: run mvn package first");
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(path.toString());
        cmd.addAll(args);
        Path log = workDir.resolve(script + "-" + RUNS.incrementAndGet() + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return new SpreadProcess(pb.start(), log, httpPort, rpcPort);
    }

    /** Waits until the log shows {@code text}; fails if the process exits first or the deadline passes. */
    public void awaitLog(String text) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (!log().contains(text)) {
            if (!process.isAlive()) {
                fail("the server exited with status " + process.exitValue() + " before logging '" + text
                        + "'; output:\n" + log());
            }
            if (System.nanoTime() > deadline) {
                fail("the server did not log '" + text + "' within " + READY_TIMEOUT + "; output:\n" + log());
            }
            Thread.sleep(200);
        }
    }

    /** Polls the HTTP port until it answers any HTTP response; fails if the process exits or the deadline passes. */
    public void awaitReady() throws InterruptedException {
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                fail("the server exited with status " + process.exitValue() + " before it served; output:\n" + log());
            }
            try {
                client.send(probe, BodyHandlers.discarding());
                return;
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                fail("the server did not answer on HTTP port " + httpPort + " within " + READY_TIMEOUT + "; output:\n"
                        + log());
            }
            Thread.sleep(200);
        }
    }

    /** Waits for the process to exit by itself and answers its status. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(EXIT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            fail("the server did not exit within " + EXIT_TIMEOUT + "; output:\n" + log());
        }
        return process.exitValue();
    }

    /** SIGTERM, then waits; true if the process exited by itself within the stop timeout. */
    public boolean terminate() {
        process.destroy();
        try {
            if (process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        kill();
        return false;
    }

    /** Stops the process whatever its state: SIGTERM, a bounded wait, then SIGKILL. */
    public void stop() {
        if (process.isAlive()) {
            terminate();
        }
    }

    /** SIGKILL (kill -9): the process gets no chance to clean up; waits until it is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends a signal by name (STOP, CONT, ...) to the process, as {@code kill -<name>} would. */
    public void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
                .inheritIO()
                .start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    public String log() {
        try {
            return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }
}
