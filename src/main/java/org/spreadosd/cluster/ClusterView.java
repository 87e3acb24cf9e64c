package org.spreadosd.cluster;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A node's copy of the cluster configuration, kept current by subscribing to the config server, and
 * of which cluster members are up and reachable right now (Pekko's failure detector). Request paths
 * read both without asking any actor.
 */
public final class ClusterView {
    private final AtomicReference<ClusterConfig> current = new AtomicReference<>(ClusterConfig.EMPTY);
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
    private final List<Runnable> configServerListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> membershipListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<ClusterConfig>> changeListeners = new CopyOnWriteArrayList<>();
    /** The revision change listeners were last told of; guarded by {@code changeListeners}. */
    private long toldRevision = ClusterConfig.EMPTY.revision();
    /** Cluster addresses ({@code host:port}) of reachable members; null until membership is known. */
    private volatile Set<String> reachableMembers;

    private volatile Set<String> configServers = Set.of();
    /**
     * Why this node is cut off from the cluster, or null while it is a member of the majority side. Null until
     * membership is known, like {@link #isReachable}: the membership tracker tells the view within moments of
     * start, before the node serves (a node still joining is then cut off until it is up).
     */
    private volatile String cutOff;

    private record Waiter(Predicate<ClusterConfig> condition, CompletableFuture<ClusterConfig> done) {}

    /**
     * A registered listener. An actor that registers one cancels it when it stops or restarts, so a restarted
     * actor is not told twice.
     */
    @FunctionalInterface
    public interface Subscription {
        void cancel();
    }

    private static <L> Subscription add(List<L> listeners, L listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    public ClusterConfig config() {
        return current.get();
    }

    /**
     * Keeps the newest configuration seen: revisions only move forward, and the first configuration of a
     * revision is the one kept (the CS makes one per revision). Several threads feed the view (the
     * subscriber actor, start-up waiters, the saved copy), so telling the listeners is serialized: each hears
     * every revision at most once and never an older one after a newer.
     */
    public void update(ClusterConfig next) {
        ClusterConfig now =
                current.accumulateAndGet(next, (old, fresh) -> fresh.revision() > old.revision() ? fresh : old);
        synchronized (changeListeners) {
            ClusterConfig newest = current.get();
            if (newest.revision() > toldRevision) {
                toldRevision = newest.revision();
                changeListeners.forEach(l -> l.accept(newest));
            }
        }
        for (Waiter w : waiters) {
            if (w.condition().test(now) && w.done().complete(now)) {
                waiters.remove(w);
            }
        }
    }

    /** Completes once the configuration satisfies {@code condition}, e.g. once it lists this node. */
    public CompletableFuture<ClusterConfig> when(Predicate<ClusterConfig> condition) {
        Waiter w = new Waiter(condition, new CompletableFuture<>());
        waiters.add(w);
        update(current.get());
        return w.done();
    }

    /**
     * Whether the node's cluster member is up and reachable. Before membership is known, and for a node
     * registered without a cluster address, every node counts as reachable.
     */
    public boolean isReachable(NodeInfo node) {
        Set<String> live = reachableMembers;
        return live == null || node.clusterAddress() == null || live.contains(node.clusterAddress());
    }

    /** Whether the member at {@code host:port} is up and reachable; false while membership is unknown. */
    public boolean isReachableMember(String clusterAddress) {
        Set<String> live = reachableMembers;
        return live != null && live.contains(clusterAddress);
    }

    /**
     * Why this node must not take adds, being cut off from the cluster: it is not (yet, or no longer) an up member,
     * or it reaches at most a minority of the members (the split brain resolver downs such a side). Null while it
     * is a member on the majority side. A node that acknowledged adds from the minority side could leave copies
     * that no one else can read until the partition heals.
     */
    public String cutOff() {
        return cutOff;
    }

    /** Called on every membership event and refresh: null, or why this node is cut off (see {@link #cutOff}). */
    public void selfChanged(String whyCutOff) {
        cutOff = whyCutOff;
    }

    /** Whether membership has been seen yet (a FAULT decision needs it). */
    public boolean knowsMembership() {
        return reachableMembers != null;
    }

    /**
     * Called on every membership or reachability event, and on the tracker's periodic refresh; listeners
     * hear only of real changes.
     *
     * @param reachable cluster addresses of the members that are up and reachable
     * @param upConfigServers unique addresses of the up members with the cs role: when this set changes,
     *     a config server may have (re)started without knowing this node's subscription
     */
    public void membershipChanged(Set<String> reachable, Set<String> upConfigServers) {
        boolean reachabilityChanged = !reachable.equals(reachableMembers);
        reachableMembers = Set.copyOf(reachable);
        boolean newConfigServer = !upConfigServers.isEmpty() && !upConfigServers.equals(configServers);
        configServers = Set.copyOf(upConfigServers);
        if (reachabilityChanged) {
            membershipListeners.forEach(Runnable::run);
        }
        if (newConfigServer) {
            configServerListeners.forEach(Runnable::run);
        }
    }

    /** Runs {@code action} whenever a config server member comes up (to subscribe or register again). */
    public Subscription onConfigServerUp(Runnable action) {
        return add(configServerListeners, action);
    }

    /**
     * Runs {@code action} with every new configuration, once per revision and in revision order, on the
     * thread that delivered it: it must not block (hand slow work elsewhere).
     */
    public Subscription onChange(Consumer<ClusterConfig> action) {
        return add(changeListeners, action);
    }

    /** Runs {@code action} whenever the set of reachable members changes. */
    public Subscription onMembershipChange(Runnable action) {
        return add(membershipListeners, action);
    }
}
