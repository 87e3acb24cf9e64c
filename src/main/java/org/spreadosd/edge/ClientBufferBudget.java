package org.spreadosd.edge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes one node holds in memory for all of its clients together: MessagePack-RPC messages being assembled or
 * waiting for their answer, urlencoded form bodies and form fields, small bodies gathered whole. Per-request and
 * per-connection limits alone let many clients together exhaust the heap; this budget is what they share.
 *
 * <p>A holder reserves before it buffers and releases what it reserved when the bytes are gone (served, refused,
 * the connection closed). A reservation that does not fit fails at once: the caller refuses the request with
 * {@link #spentMessage} or stops reading its connection for a while, never waits holding what it has.
 */
public final class ClientBufferBudget {
    /** The setting operators change when the budget is too small for their clients. */
    public static final String SETTING = "spreadosd.clients.buffer-budget";

    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong refusals = new AtomicLong();

    public ClientBufferBudget(long limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("a buffer budget must be positive, got " + limit);
        }
        this.limit = limit;
    }

    /** Takes {@code bytes} from the budget if they fit in what is left, and says whether they did. */
    public boolean tryReserve(long bytes) {
        if (bytes <= 0) {
            return true;
        }
        while (true) {
            long now = used.get();
            if (now + bytes > limit) {
                refusals.incrementAndGet();
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /**
     * Counts bytes already in memory whether they fit or not (an answer a call produced): later reservations see
     * them, so new requests are refused while they are held. Given back with {@link #release}.
     */
    public void take(long bytes) {
        if (bytes > 0) {
            used.addAndGet(bytes);
        }
    }

    /** Gives back bytes taken with {@link #tryReserve} or {@link #take}. */
    public void release(long bytes) {
        if (bytes > 0) {
            used.addAndGet(-bytes);
        }
    }

    public long used() {
        return used.get();
    }

    public long limit() {
        return limit;
    }

    /** How many reservations did not fit, since start: non-zero means clients were refused or slowed for memory. */
    public long refusals() {
        return refusals.get();
    }

    /** The reason a client reads when its request is refused because the budget is spent. */
    public String spentMessage(long wanted) {
        return "server busy: " + wanted + " more bytes of client data do not fit in the node's buffer (" + used()
                + " of " + limit + " bytes in use, " + SETTING + "); retry later";
    }
}
