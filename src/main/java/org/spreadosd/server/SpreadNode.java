package org.spreadosd.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.SelfUp;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cluster.ConfigCopy;
import org.spreadosd.cluster.MembershipTracker;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.cs.ConfigRpc;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.cs.FaultMarker;
import org.spreadosd.cs.JournalDatabase;
import org.spreadosd.ds.BlobService;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.ds.replication.Repairer;
import org.spreadosd.ds.replication.ReplicaApi;
import org.spreadosd.ds.replication.ReplicaClient;
import org.spreadosd.ds.replication.ReplicationStatus;
import org.spreadosd.ds.replication.Scrubber;
import org.spreadosd.ds.replication.SetReplicator;
import org.spreadosd.ds.replication.WriteCoordinator;
import org.spreadosd.gw.DataLinks;
import org.spreadosd.gw.Gateway;
import org.spreadosd.gw.VersionLocator;
import org.spreadosd.gw.http.DirectEndpoint;
import org.spreadosd.gw.http.ErrorPages;
import org.spreadosd.gw.http.HttpApi;
import org.spreadosd.gw.http.ObjectEndpoints;
import org.spreadosd.mds.H2TcpServer;
import org.spreadosd.mds.JdbcMetadataStore;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.mds.SwitchingMetadataStore;
import org.spreadosd.model.VersionClock;
import org.spreadosd.rpc.RpcHandler;
import org.spreadosd.rpc.RpcServer;
import org.spreadosd.rpc.RpcService;

/**
 * One SpreadOSD server process: a Pekko Cluster member carrying some of the roles cs, ds and gw.
 * The standalone process carries all three and joins itself; its parts still talk through the CS
 * actor protocol and the node-to-node byte stream API, exactly as separate processes do.
 */
public final class SpreadNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SpreadNode.class);
    private static final Duration BIND_TIMEOUT = Duration.ofSeconds(30);

    private final ActorSystem<Void> system;
    private final NodeSettings settings;
    private final ClusterView view = new ClusterView();
    private MetadataStore mds;
    private DataStore dataStore;
    private BlobService blobService;
    private ReplicationStatus replication;
    private List<String> joinedThrough = List.of();
    /** Keeps the served embedded H2 database open while this node runs. */
    private java.sql.Connection embeddedMdsKeeper;

    private SpreadNode(ActorSystem<Void> system, NodeSettings settings) {
        this.system = system;
        this.settings = settings;
    }

    /** Starts a node from {@code overrides} on top of the reference configuration, and waits until it serves. */
    public static SpreadNode start(Config overrides) {
        Config merged = overrides.withFallback(ConfigFactory.load());
        NodeSettings settings = NodeSettings.from(merged);
        prepareStore(settings.store());
        ActorSystem<Void> system;
        try {
            system = ActorSystem.create(
                    Behaviors.empty(), "spreadosd", pekkoSettings(settings).withFallback(merged));
        } catch (RuntimeException e) {
            throw new StartupException(
                    "cannot start the cluster member on " + settings.listenHost() + ":" + settings.clusterPort() + ": "
                            + rootMessage(e),
                    e);
        }
        SpreadNode node = new SpreadNode(system, settings);
        try {
            node.startRoles();
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    private void startRoles() {
        ConfigCopy copy = new ConfigCopy(settings.store());
        copy.load(log).ifPresent(view::update);
        system.systemActorOf(MembershipTracker.create(view), "membership", Props.empty());
        join();
        if (settings.hasRole("cs")) {
            createJournalSchema();
        }
        ClusterSingleton singleton = ClusterSingleton.get(system);
        ActorRef<ConfigServer.Command> configServer =
                singleton.init(SingletonActor.of(ConfigServer.create(view::isReachableMember), "config-server")
                        .withSettings(ClusterSingletonSettings.create(system).withRole("cs")));
        system.systemActorOf(view.subscriber(configServer, copy), "cluster-view", Props.empty());
        awaitMembership();

        Executor blocking =
                system.dispatchers().lookup(DispatcherSelector.fromConfig("spreadosd.blocking-io-dispatcher"));
        Materializer mat = Materializer.matFromSystem(system);
        BlobStreamClient blobs = new BlobStreamClient(system);
        ConfigRpc csRpc = null;
        if (settings.hasRole("cs")) {
            csRpc = startConfigServerSide(configServer, blobs, blocking, mat);
        }
        CompletableFuture<ConfigServer.Registered> registration = new CompletableFuture<>();
        if (settings.hasRole("ds")) {
            dataStore = openDataStore();
            replication = new ReplicationStatus();
            replication.registerMBean();
            ReplicaClient replicas = new ReplicaClient(system, blobs, dataStore, blocking);
            Repairer repairer = new Repairer(settings.nid(), view, dataStore, replicas, blocking, replication);
            blobService = new BlobService(
                    dataStore,
                    blocking,
                    mat,
                    settings.uploadIdleTimeout(),
                    new WriteCoordinator(settings.nid(), view, blobs, dataStore),
                    a -> repairer.repair(a.rsid(), a.key(), a.vtime()),
                    settings.replication().verifyBeforeSendBytes());
            BlobStreamServer blobServer = new BlobStreamServer(blobService, mat);
            ReplicaApi replicaApi = new ReplicaApi(dataStore, blocking, mat);
            bind(
                    "data stream",
                    settings.dataPort(),
                    request -> ReplicaApi.handles(request.getUri().path())
                            ? replicaApi.handle(request)
                            : blobServer.handle(request));
            system.systemActorOf(
                    DataServer.create(settings.nodeInfo(), configServer, view, registration),
                    "data-server",
                    Props.empty());
            awaitRegistration(registration);
            startReplication(replicas, repairer, blocking, mat);
        }
        if (settings.hasRole("gw")) {
            awaitConfiguration();
            if (mds == null) {
                mds = openMetadataStore(blocking);
            }
            DataLinks links = blobService == null
                    ? DataLinks.remote(blobs)
                    : DataLinks.withLocal(blobs, settings.nid(), blobService.link());
            Gateway gateway = new Gateway(
                    mds, view, links, blocking, settings.mode(), settings.location(), settings.limits(), mat);
            ErrorPages pages = errorPages();
            HttpApi api = new HttpApi(
                    new ObjectEndpoints(gateway, pages, mat, settings.maxFormBytes(), settings.limits()),
                    new DirectEndpoint(dataStore, blocking),
                    pages,
                    mat,
                    settings.limits());
            scheduleGarbageScan(gateway);
            if (settings.httpPort() > 0) {
                bind("HTTP", settings.httpPort(), api::handle);
            }
            RpcHandler gatewayRpc = new RpcService(
                    gateway,
                    mat,
                    settings.maxRpcMessageBytes(),
                    csAddress(),
                    dataStore == null ? null : dataStore::items,
                    replication == null ? null : replication::toMap);
            bindRpc(csRpc == null ? gatewayRpc : csRpc.withGateway(gatewayRpc));
        } else if (csRpc != null) {
            bindRpc(csRpc);
        }
        // Connection pools to other nodes close before the actor system stops, so their shutdown is not reported as a
        // failure.
        CoordinatedShutdown.get(system)
                .addTask(
                        CoordinatedShutdown.PhaseServiceStop(),
                        "close-http-pools",
                        () -> Http.get(system).shutdownAllConnectionPools().thenApply(ignored -> Done.getInstance()));
        startManagement();
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
    }

    /**
     * Joins the cluster. A node with seed nodes (a DS or GW: its config server) joins through them; a config
     * server forms the cluster itself, after first trying the members it knew before a restart, so that a
     * restarted config server rejoins the running cluster instead of starting a second one.
     */
    private void join() {
        Cluster cluster = Cluster.get(system);
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

    /** Waits until this node is an up member of the cluster; a CS that cannot be reached is a clear start-up failure. */
    private void awaitMembership() {
        CompletableFuture<Done> up = new CompletableFuture<>();
        ActorRef<SelfUp> listener = system.systemActorOf(
                Behaviors.<SelfUp>receiveMessage(m -> {
                    up.complete(Done.getInstance());
                    return Behaviors.stopped();
                }),
                "await-self-up",
                Props.empty());
        Cluster.get(system).subscriptions().tell(new Subscribe<>(listener, SelfUp.class));
        try {
            up.get(settings.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            String through = settings.csAddress().isEmpty()
                    ? "seed nodes " + joinedThrough
                    : "the config server at " + settings.csAddress() + " (its cluster port " + joinedThrough.get(0)
                            + ")";
            throw new StartupException("cannot join the cluster through " + through + " within "
                    + settings.startupTimeout() + ": is it running and reachable?");
        } catch (InterruptedException | ExecutionException e) {
            throw new StartupException("interrupted while joining the cluster", e);
        }
        awaitOwnMemberInView();
    }

    /**
     * SelfUp can arrive before the membership tracker's snapshot shows this member up; until it does, the
     * view counts this node unreachable and a first request right after start would find no writable set.
     */
    private void awaitOwnMemberInView() {
        CompletableFuture<Done> seen = new CompletableFuture<>();
        Runnable check = () -> {
            if (view.isReachableMember(settings.clusterAddress())) {
                seen.complete(Done.getInstance());
            }
        };
        view.onMembershipChange(check);
        check.run();
        try {
            seen.get(settings.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StartupException("this node's cluster member " + settings.clusterAddress()
                    + " did not show as up and reachable within " + settings.startupTimeout());
        } catch (InterruptedException | ExecutionException e) {
            throw new StartupException("interrupted while joining the cluster", e);
        }
    }

    /** The config server's parts on a cs-role node: FAULT marks, the metadata store it serves or names, its RPC methods. */
    private ConfigRpc startConfigServerSide(
            ActorRef<ConfigServer.Command> configServer, BlobStreamClient blobs, Executor blocking, Materializer mat) {
        system.systemActorOf(
                FaultMarker.create(view, configServer, settings.faultGrace()), "fault-marker", Props.empty());
        ClusterConfig current = askConfig(configServer);
        String announce = metadataStoreToAnnounce(current);
        if ((announce != null && !announce.equals(current.mdsUri()))
                || (!settings.mdsCache().isEmpty() && !settings.mdsCache().equals(current.mdsCacheUri()))) {
            String cacheUri = settings.mdsCache().isEmpty() ? null : settings.mdsCache();
            AskPattern.<ConfigServer.Command, ClusterConfig>ask(
                            configServer,
                            r -> new ConfigServer.SetMds(announce, cacheUri, r),
                            BIND_TIMEOUT,
                            system.scheduler())
                    .toCompletableFuture()
                    .join();
            log.info(
                    "metadata store of the cluster set to {}",
                    announce == null ? current.mdsUri() : MdsUri.redact(announce));
        }
        mds = openMetadataStore(blocking);
        VersionLocator locator = new VersionLocator(mds, blobs, blocking, mat);
        return new ConfigRpc(configServer, system.scheduler(), locator, csAddress());
    }

    /**
     * The metadata store this config server names for the cluster, or null to leave the configuration's
     * choice as it is. A standalone node uses its own store until an operator names another; a dedicated
     * CS names its --mds URL or else serves its embedded database and names that.
     */
    private String metadataStoreToAnnounce(ClusterConfig current) {
        if (settings.hasRole("gw")) {
            return null;
        }
        if (settings.mds().startsWith("jdbc:") && !settings.mds().startsWith("jdbc:h2:file:")) {
            return settings.mds();
        }
        H2TcpServer server = serveEmbeddedMds();
        // After `spreadctl set_mds`, a restarted CS must not switch the cluster back to its own database.
        boolean operatorChoseAnother = settings.mds().isEmpty()
                && !current.mdsUri().isEmpty()
                && !current.mdsUri().startsWith("jdbc:h2:tcp:");
        return operatorChoseAnother ? null : server.url();
    }

    /** The embedded H2 metadata database in {@code <store>/mds}, created here and served over TCP to the other nodes. */
    private H2TcpServer serveEmbeddedMds() {
        Path dir = settings.mds().isEmpty() ? settings.store().resolve("mds") : MdsUri.h2Directory(settings.mds());
        try {
            // Opened first, without the pool's 5 s connection timeout: opening (or recovering) the database can take
            // longer on a loaded machine, and once it is open the pool's connection is immediate.
            embeddedMdsKeeper = java.sql.DriverManager.getConnection(MdsUri.embeddedH2(dir));
            new JdbcMetadataStore(MdsUri.embeddedH2(dir), 1, VersionClock.system()).close();
            boolean loopbackOnly = settings.listenHost().startsWith("127.")
                    || settings.listenHost().equals("localhost");
            H2TcpServer server = H2TcpServer.start(dir, settings.advertiseHost(), settings.dataPort(), !loopbackOnly);
            log.info("metadata store served over TCP: {} (database {})", server.url(), dir);
            return server;
        } catch (java.sql.SQLException | RuntimeException e) {
            throw new StartupException(
                    "cannot serve the metadata store on port " + settings.dataPort() + ": " + rootMessage(e), e);
        }
    }

    private ClusterConfig askConfig(ActorRef<ConfigServer.Command> configServer) {
        try {
            return AskPattern.<ConfigServer.Command, ClusterConfig>ask(
                            configServer, ConfigServer.GetConfig::new, settings.startupTimeout(), system.scheduler())
                    .toCompletableFuture()
                    .get();
        } catch (InterruptedException | ExecutionException e) {
            throw new StartupException("the config server did not recover its configuration: " + rootMessage(e), e);
        }
    }

    private String csAddress() {
        if (settings.hasRole("cs")) {
            return settings.advertiseHost() + ":" + settings.rpcPort();
        }
        return settings.csAddress().contains(":")
                ? settings.csAddress()
                : settings.csAddress() + ":" + NodeSettings.DEFAULT_CS_PORT;
    }

    /**
     * A data server serves once the config server has confirmed it. If it already is in its saved copy of the
     * configuration exactly as it is now, it serves at once and the registration goes on in the background, so
     * a data server restarted while no config server is up still serves. A refusal stops the start.
     */
    private void awaitRegistration(CompletableFuture<ConfigServer.Registered> registration) {
        NodeInfo self = settings.nodeInfo();
        if (view.config().node(self.nid()).map(self::equals).orElse(false)) {
            registration.thenAccept(r -> {
                if (r.refusal() != null) {
                    log.error("stopping: {}", r.refusal());
                    system.terminate();
                }
            });
            return;
        }
        ConfigServer.Registered answer;
        try {
            answer = registration.get(settings.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StartupException(
                    "the config server did not confirm this node's registration within " + settings.startupTimeout());
        } catch (InterruptedException | ExecutionException e) {
            throw new StartupException("interrupted while registering with the config server", e);
        }
        if (answer.refusal() != null) {
            throw new StartupException(answer.refusal());
        }
    }

    /** One replicator per replication-set this DS belongs to, and the checksum scrub of its whole store. */
    private void startReplication(ReplicaClient replicas, Repairer repairer, Executor blocking, Materializer mat) {
        for (int rsid : settings.rsids()) {
            system.systemActorOf(
                    SetReplicator.create(
                            rsid,
                            settings.nid(),
                            view,
                            dataStore,
                            replicas,
                            replication,
                            settings.replication().forReplicator(),
                            mat,
                            blocking),
                    "replicator-" + rsid,
                    Props.empty());
        }
        // A DS is also a gateway: its metadata store tells the scrub which bytes no row names (garbage).
        Scrubber scrubber = new Scrubber(
                dataStore,
                repairer,
                replication,
                settings.replication().scrubBytesPerSecond(),
                settings.hasRole("gw") ? (key, vtime) -> mds.knows(key, vtime) : null,
                settings.gcPendingGrace());
        scrubber.start(settings.replication().scrubInterval());
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-scrub", () -> {
            scrubber.close();
            return CompletableFuture.completedFuture(Done.getInstance());
        });
    }

    private void scheduleGarbageScan(Gateway gateway) {
        system.scheduler()
                .scheduleWithFixedDelay(
                        settings.gcInterval(),
                        settings.gcInterval(),
                        () -> gateway.sweepStaleReservations(settings.gcPendingGrace())
                                .whenComplete((n, e) -> {
                                    if (e != null) {
                                        log.warn("garbage scan failed: {}", rootMessage(e));
                                    }
                                }),
                        system.executionContext());
    }

    /** The config server's journal tables, created on first start. */
    private void createJournalSchema() {
        try {
            JournalDatabase.of(settings.csJournal(), settings.store().resolve("cs"))
                    .createSchemaIfMissing();
        } catch (RuntimeException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }

    /** A gateway opens for requests once it knows where the data and the metadata live. */
    private void awaitConfiguration() {
        boolean ownMds = settings.hasRole("cs");
        try {
            view.when(c -> !c.nodes().isEmpty() && (ownMds || !c.mdsUri().isEmpty()))
                    .get(settings.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StartupException("no cluster configuration from the config server within "
                    + settings.startupTimeout() + " (is a CS running and reachable?)");
        } catch (InterruptedException | ExecutionException e) {
            throw new StartupException("interrupted while waiting for the cluster configuration", e);
        }
    }

    private DataStore openDataStore() {
        try {
            return new DataStore(settings.store(), settings.maxObjectBytes(), settings.ulog());
        } catch (IOException e) {
            throw new StartupException("cannot use store directory " + settings.store() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The metadata store the configuration names, switched whenever it names another one; a node that runs
     * the config server itself (standalone) uses its own until the configuration names one.
     */
    private MetadataStore openMetadataStore(Executor blocking) {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        while (true) {
            try {
                return openMetadataStoreOnce(blocking);
            } catch (StartupException e) {
                // A database that does not answer in time (a loaded machine, a CS still starting) is waited for until
                // the start-up timeout; any other failure (a wrong URI or password) ends the start at once.
                if (!causedBy(e, java.sql.SQLTransientConnectionException.class) || System.nanoTime() > deadline) {
                    throw e;
                }
                log.warn("{}; trying again", e.getMessage());
            }
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private MetadataStore openMetadataStoreOnce(Executor blocking) {
        String named = view.config().mdsUri();
        String uri = !named.isEmpty()
                ? named
                : settings.mds().isEmpty()
                        ? MdsUri.embeddedH2(settings.store().resolve("mds"))
                        : MdsUri.toJdbcUrl(settings.mds());
        try {
            SwitchingMetadataStore store = new SwitchingMetadataStore(
                    uri, url -> new JdbcMetadataStore(url, settings.mdsPoolSize(), VersionClock.system()), blocking);
            view.onChange(c -> {
                if (!c.mdsUri().isEmpty() && !c.mdsUri().equals(store.currentUrl())) {
                    blocking.execute(() -> store.switchTo(c.mdsUri()));
                }
            });
            CoordinatedShutdown.get(system)
                    .addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-mds", () -> {
                        store.close();
                        return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
                    });
            return store;
        } catch (RuntimeException e) {
            throw new StartupException(
                    "cannot open the metadata store " + MdsUri.redact(uri) + ": " + rootMessage(e), e);
        }
    }

    private ErrorPages errorPages() {
        try {
            return ErrorPages.load(settings.errorPage().isEmpty() ? null : Path.of(settings.errorPage()));
        } catch (IOException e) {
            throw new StartupException(
                    "cannot read the HTTP error page template " + settings.errorPage() + ": " + e.getMessage(), e);
        }
    }

    private void bind(String what, int port, Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        CompletionStage<ServerBinding> binding =
                Http.get(system).newServerAt(settings.listenHost(), port).bind(handler::apply);
        try {
            ServerBinding b = binding.toCompletableFuture().get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            b.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
            log.info("{} listening on {}", what, b.localAddress());
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException(
                    "cannot listen for " + what + " on " + settings.listenHost() + ":" + port + ": " + rootMessage(e),
                    e);
        }
    }

    private void bindRpc(RpcHandler handler) {
        RpcServer rpc =
                new RpcServer(handler, settings.maxRpcMessageBytes(), settings.maxRpcInFlightBytesPerConnection());
        try {
            var binding = rpc.bind(system, settings.listenHost(), settings.rpcPort())
                    .toCompletableFuture()
                    .get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            CoordinatedShutdown.get(system)
                    .addTask(
                            CoordinatedShutdown.PhaseServiceUnbind(),
                            "unbind-rpc",
                            () -> binding.unbind().thenApply(ignored -> Done.getInstance()));
            log.info("MessagePack-RPC listening on {}", binding.localAddress());
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException(
                    "cannot listen for MessagePack-RPC on " + settings.listenHost() + ":" + settings.rpcPort() + ": "
                            + rootMessage(e),
                    e);
        }
    }

    private void startManagement() {
        try {
            PekkoManagement.get(system.classicSystem())
                    .start()
                    .toCompletableFuture()
                    .get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException(
                    "cannot start Pekko Management on port " + settings.managementPort() + ": " + rootMessage(e), e);
        }
    }

    private static void prepareStore(Path store) {
        try {
            Files.createDirectories(store);
            Path probe = Files.createTempFile(store, ".write-test", "");
            Files.delete(probe);
        } catch (IOException e) {
            throw new StartupException("store directory " + store + " is not writable: " + rootMessage(e), e);
        }
    }

    /** What the cluster and management layers need to know of this node, derived from the spreadosd settings. */
    private static Config pekkoSettings(NodeSettings s) {
        Map<String, Object> m = new HashMap<>();
        m.put("pekko.remote.artery.canonical.hostname", s.advertiseHost());
        m.put("pekko.remote.artery.canonical.port", s.clusterPort());
        m.put("pekko.remote.artery.bind.hostname", s.listenHost());
        m.put("pekko.remote.artery.bind.port", s.clusterPort());
        m.put("pekko.cluster.roles", List.copyOf(s.roles()));
        m.put("pekko.management.http.hostname", s.advertiseHost());
        m.put("pekko.management.http.bind-hostname", s.listenHost());
        m.put("pekko.management.http.port", s.managementPort());
        m.put("pekko.management.http.bind-port", s.managementPort());
        Config journal;
        try {
            journal = JournalDatabase.of(s.csJournal(), s.store().resolve("cs")).pekkoConfig();
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage(), e);
        }
        return ConfigFactory.parseMap(m)
                .withFallback(journal)
                .withFallback(ConfigFactory.empty()
                        .withValue(
                                "spreadosd.store",
                                ConfigValueFactory.fromAnyRef(s.store().toString())));
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    public NodeSettings settings() {
        return settings;
    }

    /** The metadata store this node's gateway uses, or null on a node without the gw role. */
    public MetadataStore metadataStore() {
        return mds;
    }

    public ActorSystem<Void> system() {
        return system;
    }

    public CompletionStage<Done> whenTerminated() {
        return system.getWhenTerminated();
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            log.warn("node did not stop within 60 s: {}", e.toString());
        }
        if (mds != null) {
            mds.close();
        }
        if (embeddedMdsKeeper != null) {
            try {
                embeddedMdsKeeper.close();
            } catch (java.sql.SQLException e) {
                log.warn("closing the metadata database: {}", e.getMessage());
            }
        }
    }
}
