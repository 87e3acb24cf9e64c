package org.spreadosd.edge;

import com.sun.management.UnixOperatingSystemMXBean;
import com.typesafe.config.Config;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * The {@code spreadosd.clients} section: how much memory, how many connections and how much patience a node gives
 * its clients (reference.conf explains each figure). "auto" values are resolved here, from the JVM's heap and the
 * process's file-descriptor limit.
 */
public record ClientLimits(long bufferBudget, Port http, Port rpc, long maxNestingDepth, long maxElements) {
    /** Limits of one listening port. {@code minRate} is bytes per second, 0 for none. */
    public record Port(
            int maxConnections,
            int maxPerAddress,
            Duration idleTimeout,
            Duration headerTimeout,
            long minRate,
            Duration rateWindow) {}

    /**
     * How long and how much a public HTTP connection goes on reading, and dropping, what its client sends after an
     * answer that closes it before the request's body was read (a refusal): {@code timeout} without a byte ends it,
     * as do {@code time} since the answer went out and {@code maxBytes} dropped.
     */
    public record Linger(Duration timeout, Duration time, long maxBytes) {
        /** From {@code spreadosd.clients.http}. */
        public static Linger from(Config http) {
            return new Linger(
                    http.getDuration("linger-timeout"),
                    http.getDuration("linger-time"),
                    http.getBytes("linger-max-bytes"));
        }
    }

    /** The share of the heap, and of the file-descriptor limit per port, that "auto" gives clients. */
    static final double AUTO_SHARE = 0.4;

    public static ClientLimits from(Config clients) {
        Config http = clients.getConfig("http");
        Config rpc = clients.getConfig("rpc");
        return new ClientLimits(
                clients.getString("buffer-budget").equals("auto")
                        ? (long) (Runtime.getRuntime().maxMemory() * AUTO_SHARE)
                        : clients.getBytes("buffer-budget"),
                new Port(
                        connections(http),
                        http.getInt("max-connections-per-address"),
                        http.getDuration("idle-timeout"),
                        http.getDuration("header-timeout"),
                        http.getBytes("body-min-rate"),
                        http.getDuration("body-rate-window")),
                new Port(
                        connections(rpc),
                        rpc.getInt("max-connections-per-address"),
                        rpc.getDuration("idle-timeout"),
                        null,
                        rpc.getBytes("message-min-rate"),
                        rpc.getDuration("message-rate-window")),
                rpc.getInt("max-nesting-depth"),
                rpc.getLong("max-elements"));
    }

    private static int connections(Config port) {
        return port.getString("max-connections").equals("auto")
                ? (int) Math.max(64, fileDescriptorLimit() * AUTO_SHARE)
                : port.getInt("max-connections");
    }

    /** This process's limit of open files (ulimit -n), or a common default where the JVM cannot tell. */
    static long fileDescriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return 4096;
    }
}
