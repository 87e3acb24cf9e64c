package org.spreadosd.util;

/**
 * Group commit for an expensive sync (an fsync, a database checkpoint): every caller returns only after a
 * sync that began after it called has finished, but callers arriving while one sync runs share the next one,
 * so N concurrent writers cost about two syncs, not N.
 */
public final class GroupSync {
    /** The sync itself; it makes durable everything done before it began. */
    public interface Action {
        void run() throws Exception;
    }

    private final Action action;
    /** Tickets handed out: one per caller, in the order they asked. */
    private long requested;
    /** Every ticket up to this one is covered by a finished sync. */
    private long covered;

    private boolean running;

    public GroupSync(Action action) {
        this.action = action;
    }

    /** How many callers have asked so far (for tests that wait until callers are queued). */
    synchronized long ticketsHandedOut() {
        return requested;
    }

    /**
     * Returns once what the caller did before calling is durable.
     *
     * @throws Exception what the sync threw when the one meant to cover this caller failed
     */
    public void await() throws Exception {
        long upTo;
        synchronized (this) {
            long ticket = ++requested;
            while (running && covered < ticket) {
                wait();
            }
            if (covered >= ticket) {
                return;
            }
            running = true;
            // Whoever took a ticket had finished its own work first, so this sync covers all of them.
            upTo = requested;
        }
        Exception failure = null;
        try {
            action.run();
        } catch (Exception e) {
            failure = e;
        }
        synchronized (this) {
            running = false;
            if (failure == null) {
                covered = Math.max(covered, upTo);
            }
            notifyAll();
        }
        if (failure != null) {
            throw failure;
        }
    }
}
