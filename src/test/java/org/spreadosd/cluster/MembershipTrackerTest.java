package org.spreadosd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class MembershipTrackerTest {
    /** The side the split brain resolver (keep-majority) downs is the side that must not take adds. */
    @Test
    void aNodeReachingHalfTheMembersOrFewerIsCutOff() {
        assertEquals("this node reaches 1 of the cluster's 4 members", MembershipTracker.cutOff(1, 4));
        assertEquals("this node reaches 2 of the cluster's 5 members", MembershipTracker.cutOff(2, 5));
        assertNull(MembershipTracker.cutOff(3, 4), "the majority side");
        assertNull(MembershipTracker.cutOff(3, 5));
        assertNull(MembershipTracker.cutOff(2, 4), "a tie: the resolver keeps one side within stable-after");
        assertNull(MembershipTracker.cutOff(1, 2), "a two-member cluster that lost one goes on");
        assertNull(MembershipTracker.cutOff(1, 1), "a standalone node");
    }
}
