package org.spreadosd.rpc;

import java.util.Optional;
import org.spreadosd.util.Version;

/**
 * The {@code stat} cmds every server answers the same way, whatever its role: uptime, time, pid,
 * version and the config server's address.
 */
public final class ProcessStats {
    private final long startedMillis = System.currentTimeMillis();
    private final String csAddress;

    public ProcessStats(String csAddress) {
        this.csAddress = csAddress;
    }

    /** The answer to {@code cmd}, or empty when it is not one of these. */
    public Optional<Object> answer(String cmd) {
        return Optional.ofNullable(
                switch (cmd) {
                    case "uptime" -> (System.currentTimeMillis() - startedMillis) / 1000;
                    case "time" -> System.currentTimeMillis() / 1000;
                    case "pid" -> ProcessHandle.current().pid();
                    case "version" -> Version.current();
                    case "cs_address" -> csAddress;
                    default -> null;
                });
    }
}
