package org.spreadosd.server;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiPredicate;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.Http;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.ConfigCopy;
import org.spreadosd.cluster.MembershipTracker;
import org.spreadosd.cs.ConfigRpc;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.cs.ConfigSubscriber;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.replication.ReplicationStatus;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.rpc.RpcHandler;
import org.spreadosd.util.DurableFiles;
import org.spreadosd.util.Supervised;

/**
 * The root actor of a node. It joins the cluster (following membership and the configuration meanwhile),
 * then spawns the roles the node has, one after another because each builds on the one before: the config
 * server (cs), the data server (ds), the gateway (gw); then it serves MessagePack-RPC and Pekko Management
 * and reports the node ready, or reports why it cannot start.
 */
final class NodeGuardian extends AbstractBehavior<NodeGuardian.Command> {
    private static final Logger log = LoggerFactory.getLogger(NodeGuardian.class);

    sealed interface Command {}

    enum Joined implements Command {
        INSTANCE
    }

    record ConfigServerStarted(ConfigRpc rpc, MetadataStore mds) implements Command {}

    record DataServerStarted(DataStore store, BlobService blobService, ReplicationStatus replication)
            implements Command {}

    record GatewayStarted(RpcHandler rpc, MetadataStore mds) implements Command {}

    record RoleFailed(StartupException error) implements Command {}

    private record Served(Throwable error) implements Command {}

    /** What a started node hands its owner. */
    record Ready(MetadataStore mds) {}

    private final NodeSettings settings;
    private final ClusterView view;
    private final CompletableFuture<Ready> ready;
    private final ActorRef<ConfigServer.Command> configServer;
    private final BlobStreamClient blobs;
    private final WorkPools pools;
    private final MetadataStoreOpening mdsOpening;
    /** The gateway's metadata store once it is open: the data server's scrub asks it which bytes are garbage. */
    private final AtomicReference<MetadataStore> mds = new AtomicReference<>();

    private ConfigRpc csRpc;
    private DataServerStarted dataServer;
    private RpcHandler gatewayRpc;

    static Behavior<Command> create(NodeSettings settings, ClusterView view, CompletableFuture<Ready> ready) {
        return Behaviors.setup(ctx -> new NodeGuardian(ctx, settings, view, ready));
    }

    private NodeGuardian(
            ActorContext<Command> ctx, NodeSettings settings, ClusterView view, CompletableFuture<Ready> ready) {
        super(ctx);
        this.settings = settings;
        this.view = view;
        this.ready = ready;
        pools = WorkPools.of(ctx.getSystem());
        // Saved on the disk's threads, so that the subscriber never waits on an fsync.
        ConfigCopy copy = new ConfigCopy(settings.store(), DurableFiles.DISK, pools.disk());
        copy.load(log).ifPresent(view::update);
        ctx.spawn(supervised(MembershipTracker.create(view)), "membership");
        ClusterJoining joining = new ClusterJoining(settings, view);
        joining.join(ctx);
        configServer = ClusterSingleton.get(ctx.getSystem())
                .init(SingletonActor.of(
                                ConfigServer.create(view::isReachableMember, settings.restartBackoff()),
                                "config-server")
                        .withSettings(
                                ClusterSingletonSettings.create(ctx.getSystem()).withRole("cs")));
        ctx.spawn(
                supervised(ConfigSubscriber.create(
                        configServer,
                        view,
                        copy,
                        ctx.getSystem().settings().config().getDuration("spreadosd.config-renew-interval"))),
                "cluster-view");
        blobs = new BlobStreamClient(ctx.getSystem());
        mdsOpening = new MetadataStoreOpening(settings, view, ctx.getSystem(), pools.metadata());
        // Connection pools to other nodes close before the actor system stops, so their shutdown is not reported
        // as a failure.
        CoordinatedShutdown.get(ctx.getSystem())
                .addTask(
                        CoordinatedShutdown.PhaseServiceStop(),
                        "close-http-pools",
                        () -> Http.get(ctx.getSystem())
                                .shutdownAllConnectionPools()
                                .thenApply(ignored -> Done.getInstance()));
        ctx.pipeToSelf(joining.awaitUp(ctx), (done, e) -> e == null ? Joined.INSTANCE : failed(e, "cannot join"));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessageEquals(Joined.INSTANCE, this::startConfigServer)
                .onMessage(ConfigServerStarted.class, m -> {
                    csRpc = m.rpc();
                    mds.set(m.mds());
                    return startDataServer();
                })
                .onMessage(DataServerStarted.class, m -> {
                    dataServer = m;
                    return startGateway();
                })
                .onMessage(GatewayStarted.class, m -> {
                    gatewayRpc = m.rpc();
                    mds.set(m.mds());
                    return serve();
                })
                .onMessage(Served.class, this::onServed)
                .onMessage(RoleFailed.class, m -> {
                    ready.completeExceptionally(m.error());
                    return this;
                })
                .onSignal(ChildFailed.class, f -> {
                    // A role that threw instead of telling why: the start fails with what it threw.
                    ready.completeExceptionally(Startup.failure(
                            f.getCause(), "the " + f.getRef().path().name() + " role failed"));
                    return this;
                })
                .build();
    }

    private Behavior<Command> startConfigServer() {
        if (!settings.hasRole("cs")) {
            return startDataServer();
        }
        watch(getContext()
                .spawn(
                        ConfigServerRole.create(
                                settings,
                                view,
                                configServer,
                                blobs,
                                mdsOpening,
                                pools,
                                getContext().getSelf()),
                        "cs"));
        return this;
    }

    private Behavior<Command> startDataServer() {
        if (!settings.hasRole("ds")) {
            return startGateway();
        }
        // A DS is also a gateway: its metadata store tells the scrub which bytes no row names (garbage).
        BiPredicate<byte[], Long> referenced =
                settings.hasRole("gw") ? (key, vtime) -> mds.get().knows(key, vtime) : null;
        watch(getContext()
                .spawn(
                        DataServerRole.create(
                                settings,
                                view,
                                configServer,
                                blobs,
                                pools,
                                referenced,
                                getContext().getSelf()),
                        "ds"));
        return this;
    }

    private Behavior<Command> startGateway() {
        if (!settings.hasRole("gw")) {
            return serve();
        }
        watch(getContext()
                .spawn(
                        GatewayRole.create(
                                settings,
                                view,
                                blobs,
                                mdsOpening,
                                mds.get(),
                                dataServer,
                                pools,
                                getContext().getSelf()),
                        "gw"));
        return this;
    }

    /** MessagePack-RPC serves the gateway's methods, the config server's, or both; then Pekko Management. */
    private Behavior<Command> serve() {
        RpcHandler rpc = csRpc == null ? gatewayRpc : gatewayRpc == null ? csRpc : csRpc.withGateway(gatewayRpc);
        var system = getContext().getSystem();
        var served = rpc == null
                ? Endpoints.management(system, settings)
                : Endpoints.rpc(system, settings, rpc).thenCompose(done -> Endpoints.management(system, settings));
        getContext().pipeToSelf(served, (done, e) -> new Served(e));
        return this;
    }

    private Behavior<Command> onServed(Served m) {
        if (m.error() != null) {
            ready.completeExceptionally(Startup.failure(m.error(), "cannot serve"));
            return this;
        }
        log.info(
                "SpreadOSD node ready: nid={} name={} roles={} rsids={} location={} rpc={} http={} data={} cluster={} store={}",
                settings.nid(),
                settings.name(),
                settings.roles(),
                settings.rsids(),
                settings.location(),
                settings.rpcPort(),
                settings.httpPort() > 0 ? settings.httpPort() : "off",
                settings.dataPort(),
                settings.clusterPort(),
                settings.store());
        ready.complete(new Ready(mds.get()));
        return this;
    }

    private void watch(ActorRef<?> role) {
        getContext().watch(role);
    }

    private static RoleFailed failed(Throwable e, String doing) {
        return new RoleFailed(Startup.failure(e, doing));
    }

    private <T> Behavior<T> supervised(Behavior<T> behavior) {
        return Supervised.restarting(behavior, settings.restartBackoff());
    }
}
