package org.spreadosd.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, throwaway PostgreSQL server for the tests, from the machine's PostgreSQL packages
 * ({@code /usr/lib/postgresql/<version>/bin}): {@code initdb} into a temporary directory, {@code pg_ctl start}
 * on 127.0.0.1 and a free port, started once per JVM on first use and stopped (and its directory deleted) by a
 * shutdown hook. PostgreSQL refuses to run as root, so as root the server runs as the {@code postgres} user.
 * {@code SPREAD_TEST_PG_URL} points the tests at an existing server instead, and then nothing is started.
 */
public final class PostgresServer {
    private static final Path INSTALL_ROOT = Path.of("/usr/lib/postgresql");
    private static final String USER = "spread";
    private static final int START_ATTEMPTS = 3;

    /** Null until the first call; then the URL, empty (not installed) or the failure to rethrow. */
    private static Optional<String> url;

    private static RuntimeException failure;

    private PostgresServer() {}

    /** The JDBC URL of a running server, or empty when no PostgreSQL server binaries are installed. */
    public static synchronized Optional<String> jdbcUrl() {
        if (failure != null) {
            throw new IllegalStateException("the test PostgreSQL server could not be started earlier", failure);
        }
        if (url == null) {
            String given = System.getenv("SPREAD_TEST_PG_URL");
            if (given != null && !given.isBlank()) {
                url = Optional.of(given.trim());
            } else {
                try {
                    url = findBinaries().map(PostgresServer::start);
                } catch (RuntimeException e) {
                    failure = e;
                    throw e;
                }
            }
        }
        return url;
    }

    /**
     * The URL of a running server. Without PostgreSQL installed the calling test fails in CI ({@code CI} set)
     * and is skipped otherwise.
     */
    public static String requireJdbcUrl() {
        Optional<String> u = jdbcUrl();
        if (u.isPresent()) {
            return u.get();
        }
        String ci = System.getenv("CI");
        if (ci != null && !ci.isEmpty()) {
            throw new AssertionError("PostgreSQL must be installed in CI (Debian package postgresql):" + " no "
                    + INSTALL_ROOT + "/<version>/bin/initdb and pg_ctl");
        }
        return Assumptions.abort("PostgreSQL not installed: no " + INSTALL_ROOT
                + "/<version>/bin/initdb and pg_ctl (apt-get install postgresql, or set SPREAD_TEST_PG_URL)");
    }

    /**
     * A new, empty database on the test server, for a test that must not see what other tests left: its JDBC URL.
     */
    public static String freshDatabase(String prefix) {
        String server = requireJdbcUrl();
        String name = prefix + "_" + Long.toHexString(System.nanoTime());
        try (Connection c = DriverManager.getConnection(server);
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + ": " + e.getMessage(), e);
        }
        return server.replaceFirst("/[^/?]+\\?", "/" + name + "?");
    }

    /** The bin directory of the newest installed version that has both initdb and pg_ctl. */
    private static Optional<Path> findBinaries() {
        if (!Files.isDirectory(INSTALL_ROOT)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(INSTALL_ROOT)) {
            return versions.filter(v -> v.getFileName().toString().matches("\\d+(\\.\\d+)*"))
                    .map(v -> v.resolve("bin"))
                    .filter(bin ->
                            Files.isExecutable(bin.resolve("initdb")) && Files.isExecutable(bin.resolve("pg_ctl")))
                    .max(Comparator.comparing(
                            bin -> bin.getParent().getFileName().toString(), PostgresServer::compareVersions));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length ? Long.parseLong(x[i]) : 0;
            long q = i < y.length ? Long.parseLong(y[i]) : 0;
            if (p != q) {
                return Long.compare(p, q);
            }
        }
        return 0;
    }

    private static String start(Path bin) {
        try {
            boolean root = runningAsRoot();
            Path dir = Files.createTempDirectory(tempBase(root), "spread-pg-");
            // Registered before anything runs, so a failed start still stops what it started and deletes the directory.
            Path data = dir.resolve("data");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(bin, data, dir, root), "spread-pg-stop"));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            if (root) {
                run(dir, List.of("chown", "-R", "postgres:postgres", dir.toString()), false);
            }
            run(
                    dir,
                    List.of(
                            bin.resolve("initdb").toString(),
                            "-D",
                            data.toString(),
                            "-A",
                            "trust",
                            "-U",
                            USER,
                            "--no-sync",
                            "-E",
                            "UTF8",
                            "--locale=C"),
                    root);

            Path log = dir.resolve("server.log");
            for (int attempt = 1; ; attempt++) {
                int port = freePort();
                try {
                    run(
                            dir,
                            List.of(
                                    bin.resolve("pg_ctl").toString(),
                                    "-D",
                                    data.toString(),
                                    "-w",
                                    "-t",
                                    "120",
                                    "-l",
                                    log.toString(),
                                    "-o",
                                    "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1"
                                            + " -c fsync=off -c max_connections=200",
                                    "start"),
                            root);
                    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=" + USER;
                } catch (IllegalStateException e) {
                    String serverLog = Files.exists(log) ? readText(log) : "(no server log at " + log + ")";
                    // Another process may have taken the port between the probe and the server's bind.
                    if (attempt < START_ATTEMPTS && serverLog.contains("could not bind")) {
                        Files.deleteIfExists(log);
                        continue;
                    }
                    throw new IllegalStateException(e.getMessage() + "\nserver.log:\n" + serverLog, e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not start the test PostgreSQL server", e);
        }
    }

    private static boolean runningAsRoot() {
        if ("root".equals(System.getProperty("user.name"))) {
            return true;
        }
        try {
            Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && out.equals("0");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * java.io.tmpdir, unless running as root and the postgres user cannot enter it (some directory on the way lacks
     * search permission for others); then /tmp.
     */
    private static Path tempBase(boolean root) throws IOException {
        Path base = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
        if (!root) {
            return base;
        }
        for (Path p = base; p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return Path.of("/tmp");
            }
        }
        return base;
    }

    /** A file's text; undecodable bytes become replacement characters instead of failing. */
    private static String readText(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static void stop(Path bin, Path data, Path dir, boolean root) {
        if (Files.exists(data.resolve("postmaster.pid"))) {
            try {
                run(
                        dir,
                        List.of(
                                bin.resolve("pg_ctl").toString(),
                                "-D",
                                data.toString(),
                                "-m",
                                "immediate",
                                "-w",
                                "stop"),
                        root);
            } catch (RuntimeException e) {
                System.err.println("could not stop the test PostgreSQL server in " + data + ": " + e.getMessage());
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
        }
    }

    /**
     * Runs a command to completion (as the postgres user when asked), failing with its output on a non-zero exit.
     * The output goes to a file rather than a pipe, so a daemon that inherits it cannot keep this waiting.
     */
    private static void run(Path workDir, List<String> command, boolean asPostgres) {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        File out = null;
        try {
            out = File.createTempFile("spread-pg-cmd", ".out");
            Process p = new ProcessBuilder(full)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            int exit = p.waitFor();
            if (exit != 0) {
                String output = readText(out.toPath());
                throw new IllegalStateException(
                        String.join(" ", full) + " failed with exit code " + exit + ":\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + String.join(" ", full), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", full), e);
        } finally {
            if (out != null) {
                out.delete();
            }
        }
    }
}
