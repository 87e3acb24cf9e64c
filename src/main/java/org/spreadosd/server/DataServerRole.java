package org.spreadosd.server;

import com.typesafe.config.Config;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiPredicate;
import org.apache.pekko.Done;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.cs.NodeRegistration;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.StoreSpace;
import org.spreadosd.ds.replication.Repairer;
import org.spreadosd.ds.replication.ReplicaApi;
import org.spreadosd.ds.replication.ReplicaClient;
import org.spreadosd.ds.replication.ReplicationStatus;
import org.spreadosd.ds.replication.Scrubber;
import org.spreadosd.ds.replication.SetReplicator;
import org.spreadosd.ds.replication.WriteCoordinator;
import org.spreadosd.util.DurableFiles;
import org.spreadosd.util.Supervised;

/**
 * The data server role: opens the store, serves the node-to-node byte stream and replica API on the data
 * port, registers with the config server and, once confirmed, replicates each of its sets and scrubs the
 * store. Its actors (registration, one replicator per set) are its supervised children.
 */
final class DataServerRole {
    private static final Logger log = LoggerFactory.getLogger(DataServerRole.class);

    sealed interface Command {}

    private record Bound(Throwable error) implements Command {}

    private record Registered(ConfigServer.Registered answer, Throwable error) implements Command {}

    private DataServerRole() {}

    /**
     * @param referenced whether the metadata store names a version, for the scrub's garbage check (null when
     *     this node has no gateway)
     */
    static Behavior<Command> create(
            NodeSettings settings,
            ClusterView view,
            ActorRef<ConfigServer.Command> configServer,
            BlobStreamClient blobs,
            WorkPools pools,
            BiPredicate<byte[], Long> referenced,
            ActorRef<NodeGuardian.Command> guardian) {
        return Behaviors.setup(ctx -> {
            DataStore store;
            try {
                Config ds = ctx.getSystem().settings().config().getConfig("spreadosd.ds");
                store = new DataStore(
                        settings.store(),
                        settings.maxObjectBytes(),
                        settings.ulog(),
                        DurableFiles.DISK,
                        ds.getBytes("free-space-reserve"),
                        ds.getBytes("held-back-space"));
                watchFreeSpace(ctx.getSystem(), store.space(), ds.getDuration("free-space-check-interval"), pools);
            } catch (IOException e) {
                guardian.tell(new NodeGuardian.RoleFailed(new StartupException(
                        "cannot use store directory " + settings.store() + ": " + e.getMessage(), e)));
                return Behaviors.empty();
            }
            return new Starting(ctx, settings, view, configServer, blobs, pools.disk(), referenced, guardian, store)
                    .bindDataPort();
        });
    }

    /** Looks at the store disk's free space now and then, and makes /ready ask it. */
    private static void watchFreeSpace(ActorSystem<?> system, StoreSpace space, Duration interval, WorkPools pools) {
        NodeReadiness.get(system.classicSystem()).add(space::problem);
        Cancellable checks = system.scheduler()
                .scheduleWithFixedDelay(
                        Duration.ZERO, interval, () -> pools.disk().execute(space::check), system.executionContext());
        CoordinatedShutdown.get(system)
                .addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-free-space-checks", () -> {
                    checks.cancel();
                    return CompletableFuture.completedFuture(Done.getInstance());
                });
    }

    /** The start-up steps, in order; the role stays in the last behavior while the node runs. */
    private static final class Starting {
        private final ActorContext<Command> ctx;
        private final NodeSettings settings;
        private final ClusterView view;
        private final ActorRef<ConfigServer.Command> configServer;
        /** Where every call into the store runs. */
        private final Executor disk;

        private final BiPredicate<byte[], Long> referenced;
        private final ActorRef<NodeGuardian.Command> guardian;
        private final DataStore store;
        private final ReplicationStatus replication = new ReplicationStatus();
        private final Materializer mat;
        private final ReplicaClient replicas;
        private final Repairer repairer;
        private final BlobService blobService;

        Starting(
                ActorContext<Command> ctx,
                NodeSettings settings,
                ClusterView view,
                ActorRef<ConfigServer.Command> configServer,
                BlobStreamClient blobs,
                Executor disk,
                BiPredicate<byte[], Long> referenced,
                ActorRef<NodeGuardian.Command> guardian,
                DataStore store) {
            this.ctx = ctx;
            this.settings = settings;
            this.view = view;
            this.configServer = configServer;
            this.disk = disk;
            this.referenced = referenced;
            this.guardian = guardian;
            this.store = store;
            this.mat = Materializer.matFromSystem(ctx.getSystem());
            replication.registerMBean();
            replicas = new ReplicaClient(ctx.getSystem(), blobs, store, disk);
            repairer = new Repairer(settings.nid(), view, store, replicas, disk, replication);
            blobService = new BlobService(
                    store,
                    disk,
                    mat,
                    settings.uploadIdleTimeout(),
                    new WriteCoordinator(settings.nid(), view, copyClient(ctx), store),
                    repairer::repair,
                    settings.replication().verifyBeforeSendBytes());
        }

        /** The coordinator's copies get a shorter answer deadline than its gateway's, so it answers in time. */
        private static BlobStreamClient copyClient(ActorContext<?> ctx) {
            return new BlobStreamClient(
                    ctx.getSystem(),
                    ctx.getSystem().settings().config().getDuration("spreadosd.ds.replication.copy-answer-timeout"));
        }

        Behavior<Command> bindDataPort() {
            BlobStreamServer blobServer = new BlobStreamServer(blobService, mat);
            ReplicaApi replicaApi = new ReplicaApi(store, disk, mat);
            ctx.pipeToSelf(
                    Endpoints.dataStream(
                            ctx.getSystem(),
                            settings,
                            settings.dataPort(),
                            request -> ReplicaApi.handles(request.getUri().path())
                                    ? replicaApi.handle(request)
                                    : blobServer.handle(request)),
                    (b, e) -> new Bound(e));
            return Behaviors.receive(Command.class)
                    .onMessage(Bound.class, b -> b.error() == null ? register() : fail(b.error()))
                    .build();
        }

        /**
         * A data server serves once the config server has confirmed it. If it already is in its saved copy of
         * the configuration exactly as it is now, it serves at once and the registration goes on in the
         * background, so a data server restarted while no config server is up still serves. A refusal stops it.
         */
        private Behavior<Command> register() {
            CompletableFuture<ConfigServer.Registered> answer = new CompletableFuture<>();
            NodeInfo self = settings.nodeInfo();
            ctx.spawn(
                    Supervised.restarting(
                            NodeRegistration.create(self, configServer, view, answer), settings.restartBackoff()),
                    "registration");
            if (view.config().node(self.nid()).map(self::equals).orElse(false)) {
                ActorSystem<Void> system = ctx.getSystem();
                answer.thenAccept(r -> {
                    if (r.refusal() != null) {
                        log.error("stopping: {}", r.refusal());
                        system.terminate();
                    }
                });
                return replicate();
            }
            ctx.pipeToSelf(
                    Startup.within(
                            answer,
                            settings.startupTimeout(),
                            () -> "the config server did not confirm this node's registration within "
                                    + settings.startupTimeout()),
                    Registered::new);
            return Behaviors.receive(Command.class)
                    .onMessage(Registered.class, r -> {
                        if (r.error() != null) {
                            return fail(r.error());
                        }
                        if (r.answer().refusal() != null) {
                            return fail(new StartupException(r.answer().refusal()));
                        }
                        return replicate();
                    })
                    .build();
        }

        /** One replicator per replication-set this DS belongs to, and the checksum scrub of its whole store. */
        private Behavior<Command> replicate() {
            for (int rsid : settings.rsids()) {
                ctx.spawn(
                        Supervised.restarting(
                                SetReplicator.create(
                                        rsid,
                                        settings.nid(),
                                        view,
                                        store,
                                        replicas,
                                        replication,
                                        settings.replication().forReplicator(),
                                        mat,
                                        disk),
                                settings.restartBackoff()),
                        "replicator-" + rsid);
            }
            Scrubber scrubber = new Scrubber(
                    store,
                    repairer,
                    replication,
                    settings.replication().scrubBytesPerSecond(),
                    referenced,
                    settings.gcPendingGrace());
            scrubber.start(settings.replication().scrubInterval());
            CoordinatedShutdown.get(ctx.getSystem())
                    .addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-scrub", () -> {
                        scrubber.close();
                        return CompletableFuture.completedFuture(Done.getInstance());
                    });
            guardian.tell(new NodeGuardian.DataServerStarted(store, blobService, replication));
            return Behaviors.empty();
        }

        private Behavior<Command> fail(Throwable error) {
            guardian.tell(new NodeGuardian.RoleFailed(Startup.failure(error, "cannot start the data server")));
            return Behaviors.empty();
        }
    }
}
