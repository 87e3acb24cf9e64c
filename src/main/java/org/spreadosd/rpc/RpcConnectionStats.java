package org.spreadosd.rpc;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the connections of one RPC port hold, updated by each connection's pipeline; readable over JMX. */
final class RpcConnectionStats implements RpcConnectionsMXBean {
    private static final Logger log = LoggerFactory.getLogger(RpcConnectionStats.class);

    private final long budgetBytes;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final LongAdder pauses = new LongAdder();

    RpcConnectionStats(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    void opened() {
        open.incrementAndGet();
    }

    void closed(long heldAtClose) {
        open.decrementAndGet();
        held.addAndGet(-heldAtClose);
    }

    /** One connection's holding changed from {@code before} to {@code now} bytes. */
    void held(long before, long now) {
        if (now != before) {
            held.addAndGet(now - before);
            peak.accumulateAndGet(now, Math::max);
        }
    }

    void paused() {
        pauses.increment();
    }

    @Override
    public int getOpenConnections() {
        return open.get();
    }

    @Override
    public long getHeldBytes() {
        return held.get();
    }

    @Override
    public long getPeakHeldBytesPerConnection() {
        return peak.get();
    }

    @Override
    public long getMaxInFlightBytesPerConnection() {
        return budgetBytes;
    }

    @Override
    public long getBudgetPauses() {
        return pauses.sum();
    }

    static ObjectName name(int port) {
        try {
            return new ObjectName("org.spreadosd:type=RpcConnections,port=" + port);
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Registers under {@link #name}, replacing a bean left by an earlier server on the port; undone by the runnable. */
    Runnable register(int port) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = name(port);
        try {
            if (server.isRegistered(name)) {
                server.unregisterMBean(name);
            }
            server.registerMBean(this, name);
        } catch (JMException e) {
            log.warn("cannot register the MBean {}: {}", name, e.getMessage());
        }
        return () -> {
            try {
                if (server.isRegistered(name)) {
                    server.unregisterMBean(name);
                }
            } catch (JMException e) {
                log.debug("cannot unregister the MBean {}: {}", name, e.getMessage());
            }
        };
    }
}
