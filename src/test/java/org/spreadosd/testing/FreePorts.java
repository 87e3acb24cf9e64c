package org.spreadosd.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback ports that are free right now, for servers started by tests. */
public final class FreePorts {
    private FreePorts() {}

    /**
     * A base port whose derived ports (base + 1000, + 2000, + 3000, as the servers derive them) are free too,
     * so a node can be started with only -p or --address, as an operator would.
     */
    public static synchronized int base() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 1000; attempt++) {
            // Every derived port stays below Linux's ephemeral range (32768..), where an outgoing connection of
            // any process could take it between this check and the server's bind.
            int base = 10_000 + random.nextInt(19_000);
            int[] ports = {base, base + 1000, base + 2000, base + 3000};
            if (Arrays.stream(ports).noneMatch(GIVEN::contains)
                    && Arrays.stream(ports).allMatch(FreePorts::free)) {
                Arrays.stream(ports).forEach(GIVEN::add);
                return base;
            }
        }
        throw new IllegalStateException("no free base port found");
    }

    /**
     * Every port handed out, derived ones included: they are free until their server starts, so without this a
     * later base or port could land on an earlier node's data or cluster port.
     */
    private static final Set<Integer> GIVEN = new HashSet<>();

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public static synchronized int next() {
        while (true) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
                if (GIVEN.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
