package org.spreadosd.edge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes taken from a {@link ClientBufferBudget} for something not yet in memory (a version about to be read for an
 * answer). Whoever ends up holding the bytes either takes the reservation over into its own accounting
 * ({@link #claim}) or gives it back ({@link #release}); each happens at most once, so the bytes are counted once and
 * never leaked, whichever of the two comes first (an answer delivered, or its connection already gone).
 */
public final class BudgetReservation {
    private final ClientBufferBudget budget;
    private final AtomicLong bytes;

    private BudgetReservation(ClientBufferBudget budget, long bytes) {
        this.budget = budget;
        this.bytes = new AtomicLong(bytes);
    }

    /** Reserves {@code bytes} if they fit; null when they do not (refuse with {@link ClientBufferBudget#spentMessage}). */
    public static BudgetReservation tryReserve(ClientBufferBudget budget, long bytes) {
        return budget.tryReserve(bytes) ? new BudgetReservation(budget, Math.max(0, bytes)) : null;
    }

    /** Takes the reserved bytes over: from now on the caller gives them back. 0 when already claimed or released. */
    public long claim() {
        return bytes.getAndSet(0);
    }

    /** Gives the reserved bytes back to the budget, unless they were claimed or released already. */
    public void release() {
        budget.release(claim());
    }

    public long bytes() {
        return bytes.get();
    }
}
