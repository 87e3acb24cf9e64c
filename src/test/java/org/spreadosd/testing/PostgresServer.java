package org.spreadosd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, throwaway PostgreSQL server for the tests, from the machine's Debian packages: initdb into a
 * temporary directory, pg_ctl start on 127.0.0.1 and a free port, stopped by a shutdown hook.
 * PostgreSQL refuses to run as root, so as root it runs as the {@code postgres} user.
 * {@code SPREAD_TEST_PG_URL} points the tests at an existing server instead.
 */
public final class PostgresServer {
    private static Optional<String> url;

    private PostgresServer() {}

    /** The JDBC URL of a running server, or empty when PostgreSQL is not installed. */
    public static synchronized Optional<String> jdbcUrl() {
        if (url == null) {
            String given = System.getenv("SPREAD_TEST_PG_URL");
            url = given != null && !given.isEmpty() ? Optional.of(given) : findBinaries().map(PostgresServer::start);
        }
        return url;
    }

    /** The URL, or the test is skipped on a developer machine without PostgreSQL; in CI a missing server fails. */
    public static String requireJdbcUrl() {
        Optional<String> u = jdbcUrl();
        if (u.isPresent()) {
            return u.get();
        }
        String ci = System.getenv("CI");
        if (ci != null && !ci.isEmpty()) {
            throw new AssertionError("PostgreSQL must be installed in CI (Debian package postgresql): no initdb under /usr/lib/postgresql");
        }
        Assumptions.abort("PostgreSQL not installed: no /usr/lib/postgresql/*/bin/initdb");
        throw new IllegalStateException("unreachable");
    }

    private static Optional<Path> findBinaries() {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(base)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(bin -> Files.isExecutable(bin.resolve("initdb")) && Files.isExecutable(bin.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(bin -> Integer.parseInt(bin.getParent().getFileName().toString().replaceAll("\\D", "0"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String start(Path bin) {
        try {
            boolean root = "root".equals(System.getProperty("user.name"));
            Path dir = Files.createTempDirectory("spread-pg");
            Path data = dir.resolve("data");
            dir.toFile().setExecutable(true, false);
            dir.toFile().setReadable(true, false);
            if (root) {
                run(List.of("chown", "postgres:postgres", dir.toString()), false);
            }
            int port = FreePorts.next();
            run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "spread",
                    "--no-sync", "-E", "UTF8"), root);
            Path log = dir.resolve("server.log");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(bin, data, dir, root)));
            try {
                run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l", log.toString(),
                        "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                        "start"), root);
            } catch (IllegalStateException e) {
                String serverLog = Files.exists(log) ? Files.readString(log) : "(no server log)";
                throw new IllegalStateException(e.getMessage() + "\n" + serverLog, e);
            }
            return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=spread";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void stop(Path bin, Path data, Path dir, boolean root) {
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop"), root);
        } catch (RuntimeException e) {
            System.err.println("could not stop the test PostgreSQL server: " + e.getMessage());
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
        }
    }

    private static void run(List<String> command, boolean asPostgres) {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", full) + " failed:\n" + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
