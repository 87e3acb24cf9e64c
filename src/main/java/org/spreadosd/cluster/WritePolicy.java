package org.spreadosd.cluster;

/**
 * How many durable copies an add to a replication-set needs before it is acknowledged:
 *
 * <ul>
 *   <li>{@code all-reachable} (the default): every reachable member gets a copy, and the add needs at least
 *       {@value #DEFAULT_MIN_COPIES} of them, or every member of a smaller set. A set with one member
 *       reachable out of two takes no adds: a member that sees its peers unreachable may be the one cut off, and
 *       a copy only it holds is one that nobody else can read until the cut heals.
 *   <li>{@code all-reachable:K}: the same with at least K copies (capped at the set's size); {@code
 *       all-reachable:1} acknowledges a single copy when the other members are unreachable, trading durability
 *       and readability during a partition for availability, by the operator's explicit choice.
 *   <li>{@code majority} of the set's members, or a number N of copies (a set with fewer than N members
 *       reachable takes no adds).
 * </ul>
 *
 * The policy lives in the cluster configuration rather than in each node's settings, so every gateway and every
 * coordinator of a set decides the same.
 */
public record WritePolicy(String text, int copies) {
    public static final String ALL_REACHABLE = "all-reachable";
    public static final String MAJORITY = "majority";
    /** The copies {@code all-reachable} needs at least, where the set has that many members. */
    public static final int DEFAULT_MIN_COPIES = 2;

    public static final WritePolicy DEFAULT = new WritePolicy(ALL_REACHABLE, DEFAULT_MIN_COPIES);

    public static WritePolicy parse(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT;
        }
        String t = text.trim();
        if (t.equals(ALL_REACHABLE)) {
            return DEFAULT;
        }
        if (t.equals(MAJORITY)) {
            return new WritePolicy(MAJORITY, 0);
        }
        if (t.startsWith(ALL_REACHABLE + ":")) {
            int min = positive(t.substring(ALL_REACHABLE.length() + 1), text);
            return min == DEFAULT_MIN_COPIES ? DEFAULT : new WritePolicy(ALL_REACHABLE + ":" + min, min);
        }
        int n = positive(t, text);
        return new WritePolicy(Integer.toString(n), n);
    }

    private static int positive(String number, String policy) {
        try {
            int n = Integer.parseInt(number);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException("write policy must be all-reachable, all-reachable:K (K >= 1 copies at"
                + " least), majority or a number of copies >= 1, not '" + policy + "'");
    }

    /** Whether the policy waits for every reachable member (beyond the copies it needs at least). */
    public boolean waitsForAllReachable() {
        return text.startsWith(ALL_REACHABLE);
    }

    /**
     * Copies the add needs, given the set's size: all-reachable needs its minimum (at most every member) and waits
     * for every reachable member.
     */
    public int required(int members) {
        if (text.equals(MAJORITY)) {
            return members / 2 + 1;
        }
        return waitsForAllReachable() ? Math.max(1, Math.min(copies, members)) : copies;
    }

    /** Whether a set with {@code reachable} of {@code members} members reachable can meet the policy. */
    public boolean canWrite(int members, int reachable) {
        return reachable >= Math.max(1, required(members));
    }

    @Override
    public String toString() {
        return text;
    }
}
