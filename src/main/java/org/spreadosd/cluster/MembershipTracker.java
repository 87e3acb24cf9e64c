package org.spreadosd.cluster;

import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Feeds Pekko Cluster membership and reachability into a {@link ClusterView}: which members are up and
 * reachable (gateways skip the others at once), and which config servers are up.
 */
public final class MembershipTracker {
    private MembershipTracker() {}

    /** The cluster's state snapshot may lag an event it just delivered, so the view is also refreshed on a short tick. */
    private static final Duration REFRESH = Duration.ofSeconds(1);

    public static Behavior<Object> create(ClusterView view) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            Cluster cluster = Cluster.get(ctx.getSystem());
            cluster.subscriptions()
                    .tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ClusterDomainEvent.class));
            timers.startTimerWithFixedDelay("refresh", REFRESH);
            return Behaviors.receiveMessage(event -> {
                publish(cluster.state(), cluster.selfMember(), view);
                return Behaviors.same();
            });
        }));
    }

    private static void publish(ClusterEvent.CurrentClusterState state, Member self, ClusterView view) {
        Set<Member> unreachable = state.getUnreachable();
        Set<String> reachable = new HashSet<>();
        Set<String> configServers = new HashSet<>();
        int members = 0;
        for (Member m : state.getMembers()) {
            if (m.status() != MemberStatus.down() && m.status() != MemberStatus.removed()) {
                members++;
            }
            if (!isUp(m) || unreachable.contains(m)) {
                continue;
            }
            reachable.add(hostPort(m.address()));
            if (m.hasRole("cs")) {
                configServers.add(m.uniqueAddress().toString());
            }
        }
        view.selfChanged(
                isUp(self)
                        ? cutOff(reachable.size(), members)
                        : "this node is not an up member of the cluster (it is "
                                + self.status().toString().toLowerCase(Locale.ROOT) + ")");
        view.membershipChanged(reachable, configServers);
    }

    private static boolean isUp(Member m) {
        return m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp();
    }

    /**
     * Null, or why a node that reaches {@code reachableUp} up members (itself included) of {@code members} is cut
     * off: it reaches fewer than half of them. A tie counts as reachable: the split brain resolver keeps one side of
     * a tie and downs the other within {@code stable-after}, and a two-member cluster that lost one goes on.
     */
    static String cutOff(int reachableUp, int members) {
        return reachableUp * 2 < members
                ? "this node reaches " + reachableUp + " of the cluster's " + members + " members"
                : null;
    }

    /** The {@code host:port} form nodes register as their cluster address. */
    public static String hostPort(Address address) {
        return address.getHost().orElse("?") + ":" + address.getPort().orElse(0);
    }
}
