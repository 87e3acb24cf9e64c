package org.spreadosd.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.Subscribe;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;

/**
 * How a node becomes a cluster member. A node with seed nodes (a DS or GW: its config server) joins through
 * them; a config server forms the cluster itself, after first trying the members it knew before a restart,
 * so that a restarted config server rejoins the running cluster instead of starting a second one.
 */
final class ClusterJoining {
    private final NodeSettings settings;
    private final ClusterView view;
    private List<String> joinedThrough = List.of();

    ClusterJoining(NodeSettings settings, ClusterView view) {
        this.settings = settings;
        this.view = view;
    }

    void join(ActorContext<?> ctx) {
        Cluster cluster = Cluster.get(ctx.getSystem());
        List<String> seeds = new ArrayList<>(settings.seedNodes());
        if (seeds.isEmpty()) {
            seeds.add(settings.clusterAddress());
            if (settings.hasRole("cs")) {
                view.config().nodes().stream()
                        .map(NodeInfo::clusterAddress)
                        .filter(a -> a != null && !seeds.contains(a))
                        .forEach(seeds::add);
            }
        }
        if (seeds.size() == 1 && seeds.get(0).equals(settings.clusterAddress())) {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        } else {
            cluster.manager()
                    .tell(new JoinSeedNodes(seeds.stream()
                            .map(s -> AddressFromURIString.parse("pekko://spreadosd@" + s))
                            .toList()));
        }
        joinedThrough = seeds;
    }

    /**
     * Completes once this node is an up member and its own view shows it so; a CS that cannot be reached fails
     * it with the operator's line. Called on the actor of {@code ctx}, which hosts the listener.
     */
    CompletionStage<Done> awaitUp(ActorContext<?> ctx) {
        CompletableFuture<Done> up = new CompletableFuture<>();
        ActorRef<SelfUp> listener = ctx.spawn(
                Behaviors.<SelfUp>receiveMessage(m -> {
                    up.complete(Done.getInstance());
                    return Behaviors.stopped();
                }),
                "await-self-up");
        Cluster.get(ctx.getSystem()).subscriptions().tell(new Subscribe<>(listener, SelfUp.class));
        return Startup.within(up, settings.startupTimeout(), this::cannotJoin)
                .thenCompose(ignored -> Startup.within(
                        ownMemberInView(),
                        settings.startupTimeout(),
                        () -> "this node's cluster member " + settings.clusterAddress()
                                + " did not show as up and reachable within " + settings.startupTimeout()));
    }

    private String cannotJoin() {
        String through = settings.csAddress().isEmpty()
                ? "seed nodes " + joinedThrough
                : "the config server at " + settings.csAddress() + " (its cluster port " + joinedThrough.get(0) + ")";
        return "cannot join the cluster through " + through + " within " + settings.startupTimeout()
                + ": is it running and reachable?";
    }

    /**
     * SelfUp can arrive before the membership tracker's snapshot shows this member up; until it does, the
     * view counts this node unreachable and a first request right after start would find no writable set.
     */
    private CompletableFuture<Done> ownMemberInView() {
        CompletableFuture<Done> seen = new CompletableFuture<>();
        Runnable check = () -> {
            if (view.isReachableMember(settings.clusterAddress())) {
                seen.complete(Done.getInstance());
            }
        };
        ClusterView.Subscription listening = view.onMembershipChange(check);
        check.run();
        seen.whenComplete((d, e) -> listening.cancel());
        return seen;
    }
}
