package org.spreadosd.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Cuts TCP ports on loopback off with iptables DROP rules, both directions (to the port and from it, on INPUT
 * and OUTPUT), the way a network partition would: packets vanish, nothing is refused. {@link #close} removes
 * exactly the rules this instance added, one by one, also when the test failed half-way. Needs root and the
 * {@code iptables} command: without it the calling test fails in CI ({@code CI} set) and is skipped otherwise.
 */
public final class LoopbackCut implements AutoCloseable {
    private final List<List<String>> added = new ArrayList<>();

    private LoopbackCut() {}

    /** A cut with no rules yet; fails in CI or skips the test when iptables cannot be run. */
    public static LoopbackCut require() {
        String problem = usable();
        if (problem != null) {
            String ci = System.getenv("CI");
            if (ci != null && !ci.isEmpty()) {
                throw new AssertionError(
                        "iptables must be usable in CI (Debian package iptables, run as root): " + problem);
            }
            Assumptions.abort("iptables not usable (apt-get install iptables, run as root): " + problem);
        }
        return new LoopbackCut();
    }

    /** Why iptables cannot be used here, or null when it can (listing the rules needs what adding them needs). */
    private static String usable() {
        try {
            Result r = run(List.of("iptables", "-w", "-S", "INPUT"));
            return r.status == 0 ? null : "iptables -S INPUT exited with " + r.status + ": " + r.output;
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    /** Drops every TCP packet to or from each port on loopback, from now until {@link #close}. */
    public void cut(int... ports) throws IOException {
        for (int port : ports) {
            for (String chain : List.of("INPUT", "OUTPUT")) {
                for (String direction : List.of("--dport", "--sport")) {
                    List<String> rule = List.of(
                            chain,
                            chain.equals("INPUT") ? "-i" : "-o",
                            "lo",
                            "-p",
                            "tcp",
                            direction,
                            String.valueOf(port),
                            "-j",
                            "DROP");
                    iptables("-A", rule);
                    added.add(rule);
                }
            }
        }
    }

    /** Removes the rules added so far, newest first; the cut can be used again afterwards. */
    public void heal() throws IOException {
        IOException first = null;
        for (int i = added.size() - 1; i >= 0; i--) {
            try {
                iptables("-D", added.get(i));
                added.remove(i);
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    public boolean isCut() {
        return !added.isEmpty();
    }

    @Override
    public void close() throws IOException {
        heal();
    }

    private static void iptables(String action, List<String> rule) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w", action));
        cmd.addAll(rule);
        Result r = run(cmd);
        if (r.status != 0) {
            throw new IOException(String.join(" ", cmd) + " exited with " + r.status + ": " + r.output);
        }
    }

    private record Result(int status, String output) {}

    private static Result run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish within 30 s");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", cmd), e);
        }
    }
}
