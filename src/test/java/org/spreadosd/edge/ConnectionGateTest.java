package org.spreadosd.edge;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionGateTest {
    /** A connection whose activity the test sets. */
    static final class FakeConnection implements ConnectionGate.Connection {
        volatile long lastActive;
        volatile boolean busy;
        volatile String evictedBecause;

        FakeConnection(long lastActive) {
            this.lastActive = lastActive;
        }

        @Override
        public long lastActiveNanos() {
            return lastActive;
        }

        @Override
        public boolean busy() {
            return busy;
        }

        @Override
        public void evict(String why) {
            evictedBecause = why;
        }
    }

    static final InetAddress A = address("127.0.0.1");
    static final InetAddress B = address("127.0.0.2");

    @Test
    void aFullPortEvictsTheConnectionIdleLongestToAdmitANewClient() {
        ConnectionGate gate = new ConnectionGate("HTTP", 3, 10);
        List<FakeConnection> open = new ArrayList<>();
        long now = System.nanoTime();
        for (long idle : new long[] {5, 50, 20}) {
            FakeConnection c = new FakeConnection(now - idle * 1_000_000_000L);
            assertInstanceOf(ConnectionGate.Admission.Admitted.class, gate.admit(A, c));
            open.add(c);
        }

        FakeConnection newcomer = new FakeConnection(now);
        assertInstanceOf(ConnectionGate.Admission.Admitted.class, gate.admit(B, newcomer));

        assertTrue(open.get(1).evictedBecause.contains("connection limit of 3"), open.get(1).evictedBecause);
        assertNull(open.get(0).evictedBecause);
        assertNull(open.get(2).evictedBecause);
        assertEquals(3, gate.open());
        assertEquals(2, gate.openFrom(A));
        assertEquals(1, gate.evictions());
    }

    @Test
    void busyConnectionsAreNeverEvictedAndANewOneIsRefusedWhenAllAreBusy() {
        ConnectionGate gate = new ConnectionGate("MessagePack-RPC", 2, 10);
        FakeConnection first = new FakeConnection(0);
        FakeConnection second = new FakeConnection(0);
        first.busy = true;
        second.busy = true;
        gate.admit(A, first);
        gate.admit(A, second);

        ConnectionGate.Admission third = gate.admit(B, new FakeConnection(System.nanoTime()));

        assertInstanceOf(ConnectionGate.Admission.Refused.class, third);
        assertTrue(
                ((ConnectionGate.Admission.Refused) third).reason().contains("all 2 connections"),
                ((ConnectionGate.Admission.Refused) third).reason());
        assertTrue(
                ((ConnectionGate.Admission.Refused) third).reason().contains("busy"),
                ((ConnectionGate.Admission.Refused) third).reason());
        assertNull(first.evictedBecause);
        assertNull(second.evictedBecause);
        assertEquals(1, gate.refusals());
    }

    @Test
    void oneAddressIsRefusedAtItsOwnLimitWithoutEvictingOthers() {
        ConnectionGate gate = new ConnectionGate("HTTP", 100, 2);
        FakeConnection other = new FakeConnection(0);
        gate.admit(B, other);
        gate.admit(A, new FakeConnection(0));
        gate.admit(A, new FakeConnection(0));

        ConnectionGate.Admission refused = gate.admit(A, new FakeConnection(0));

        assertInstanceOf(ConnectionGate.Admission.Refused.class, refused);
        assertTrue(
                ((ConnectionGate.Admission.Refused) refused).reason().contains("127.0.0.1"),
                ((ConnectionGate.Admission.Refused) refused).reason());
        assertTrue(
                ((ConnectionGate.Admission.Refused) refused).reason().contains("2 connections"),
                ((ConnectionGate.Admission.Refused) refused).reason());
        assertNull(other.evictedBecause);
        assertInstanceOf(ConnectionGate.Admission.Admitted.class, gate.admit(B, new FakeConnection(0)));
    }

    @Test
    void aReleasedPlaceIsFreeAgainAndReleasingTwiceCountsOnce() {
        ConnectionGate gate = new ConnectionGate("HTTP", 1, 1);
        FakeConnection busy = new FakeConnection(0);
        busy.busy = true;
        var ticket = ((ConnectionGate.Admission.Admitted) gate.admit(A, busy)).ticket();
        assertInstanceOf(ConnectionGate.Admission.Refused.class, gate.admit(A, new FakeConnection(0)));

        ticket.release();
        ticket.release();

        assertEquals(0, gate.open());
        assertEquals(0, gate.openFrom(A));
        assertInstanceOf(ConnectionGate.Admission.Admitted.class, gate.admit(A, new FakeConnection(0)));
    }

    @Test
    void anEvictedConnectionsPlaceIsNotCountedTwiceWhenItClosesLater() {
        ConnectionGate gate = new ConnectionGate("HTTP", 1, 5);
        FakeConnection idle = new FakeConnection(0);
        var idleTicket = ((ConnectionGate.Admission.Admitted) gate.admit(A, idle)).ticket();
        FakeConnection newcomer = new FakeConnection(System.nanoTime());
        newcomer.busy = true;
        gate.admit(A, newcomer);
        assertNotNull(idle.evictedBecause);

        idleTicket.release();

        assertEquals(1, gate.open());
        assertEquals(1, gate.openFrom(A));
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
