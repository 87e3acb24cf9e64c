package org.spreadosd.cluster;

/**
 * How many durable copies an add to a replication-set needs before it is acknowledged:
 * {@code all-reachable} (the default: every reachable member, at least one), {@code majority} of the
 * set's members, or a number.
 */
public record WritePolicy(String text, int copies) {
    public static final String ALL_REACHABLE = "all-reachable";
    public static final String MAJORITY = "majority";
    public static final WritePolicy DEFAULT = new WritePolicy(ALL_REACHABLE, 0);

    public static WritePolicy parse(String text) {
        if (text == null || text.isBlank() || text.equals(ALL_REACHABLE)) {
            return DEFAULT;
        }
        if (text.equals(MAJORITY)) {
            return new WritePolicy(MAJORITY, 0);
        }
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 1) {
                return new WritePolicy(Integer.toString(n), n);
            }
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException(
                "write policy must be all-reachable, majority or a number of copies >= 1, not '" + text + "'");
    }

    /** Copies the add needs, given the set's size; all-reachable needs one and waits for every reachable member. */
    public int required(int members) {
        if (text.equals(MAJORITY)) {
            return members / 2 + 1;
        }
        return text.equals(ALL_REACHABLE) ? 1 : copies;
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
