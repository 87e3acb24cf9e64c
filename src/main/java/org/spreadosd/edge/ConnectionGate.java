package org.spreadosd.edge;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Which connections one listening port keeps: at most {@code maxConnections} in all and {@code maxPerAddress} from
 * one client address, so that neither a flood of connections nor one greedy client takes the file descriptors and
 * the memory every other client needs.
 *
 * <p>A port at its limit makes room for a new client by evicting the connection that has been idle longest (a
 * client that reconnects loses nothing: no request is in progress on an idle connection); only when every
 * connection is busy is the new one refused. A client address at its own limit is refused, never served by
 * evicting others.
 */
public final class ConnectionGate {
    /** A connection the gate keeps; {@link #evict} may be called from any thread. */
    public interface Connection {
        /** {@link System#nanoTime} of the last byte received or sent, or of the start of the request in progress. */
        long lastActiveNanos();

        /** Whether a request is in progress (being read, served or answered): such a connection is never evicted. */
        boolean busy();

        /** Closes the connection to make room for another; says why in the one log line the caller writes. */
        void evict(String why);
    }

    /** The gate's answer to a new connection. */
    public sealed interface Admission {
        /** Kept: {@link Ticket#release} when the connection closes. */
        record Admitted(Ticket ticket) implements Admission {}

        /** Refused, with the reason to log and, where the protocol allows, to tell the client. */
        record Refused(String reason) implements Admission {}
    }

    /** A kept connection's place at the gate. */
    public final class Ticket {
        private final InetAddress address;
        private final Connection connection;
        private boolean released;

        private Ticket(InetAddress address, Connection connection) {
            this.address = address;
            this.connection = connection;
        }

        /** Frees the place; releasing twice is harmless. */
        public void release() {
            synchronized (ConnectionGate.this) {
                if (released) {
                    return;
                }
                released = true;
                open.remove(this);
                perAddress.computeIfPresent(address, (a, n) -> n > 1 ? n - 1 : null);
            }
        }
    }

    private final String what;
    private final int maxConnections;
    private final int maxPerAddress;
    private final Set<Ticket> open = new LinkedHashSet<>();
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();
    private long evictions;
    private long refusals;

    /** @param what the port, as log lines name it ("HTTP", "MessagePack-RPC") */
    public ConnectionGate(String what, int maxConnections, int maxPerAddress) {
        if (maxConnections < 1 || maxPerAddress < 1) {
            throw new IllegalArgumentException(
                    what + " connection limits must be positive: " + maxConnections + ", " + maxPerAddress);
        }
        this.what = what;
        this.maxConnections = maxConnections;
        this.maxPerAddress = maxPerAddress;
    }

    /** Keeps {@code connection} from {@code address}, evicting the longest-idle one if the port is full, or refuses it. */
    public Admission admit(InetAddress address, Connection connection) {
        Connection victim = null;
        Ticket ticket;
        synchronized (this) {
            int fromAddress = perAddress.getOrDefault(address, 0);
            if (fromAddress >= maxPerAddress) {
                refusals++;
                return new Admission.Refused(what + ": " + address.getHostAddress() + " already has " + fromAddress
                        + " connections, the most one client address may open");
            }
            if (open.size() >= maxConnections) {
                Ticket idlest = idlest();
                if (idlest == null) {
                    refusals++;
                    return new Admission.Refused(
                            what + ": all " + maxConnections + " connections this node keeps are busy; retry later");
                }
                idlest.release();
                evictions++;
                victim = idlest.connection;
            }
            ticket = new Ticket(address, connection);
            open.add(ticket);
            perAddress.merge(address, 1, Integer::sum);
        }
        if (victim != null) {
            victim.evict(what + " connection limit of " + maxConnections
                    + " reached: closing the connection idle longest to admit a new client");
        }
        return new Admission.Admitted(ticket);
    }

    private Ticket idlest() {
        Ticket idlest = null;
        for (Ticket t : open) {
            if (!t.connection.busy()
                    && (idlest == null || t.connection.lastActiveNanos() - idlest.connection.lastActiveNanos() < 0)) {
                idlest = t;
            }
        }
        return idlest;
    }

    public synchronized int open() {
        return open.size();
    }

    public synchronized int openFrom(InetAddress address) {
        return perAddress.getOrDefault(address, 0);
    }

    public synchronized long evictions() {
        return evictions;
    }

    public synchronized long refusals() {
        return refusals;
    }

    public int maxConnections() {
        return maxConnections;
    }

    public int maxPerAddress() {
        return maxPerAddress;
    }
}
