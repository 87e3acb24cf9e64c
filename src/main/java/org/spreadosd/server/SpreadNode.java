package org.spreadosd.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.stream.Materializer;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.ds.BlobStreamServer;
import org.spreadosd.ds.DataServer;
import org.spreadosd.ds.DataStore;
import org.spreadosd.gw.Gateway;
import org.spreadosd.gw.http.DirectEndpoint;
import org.spreadosd.gw.http.ErrorPages;
import org.spreadosd.gw.http.HttpApi;
import org.spreadosd.gw.http.ObjectEndpoints;
import org.spreadosd.mds.JdbcMetadataStore;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.model.VersionClock;
import org.spreadosd.rpc.RpcServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
            system = ActorSystem.create(Behaviors.empty(), "spreadosd", pekkoSettings(settings).withFallback(merged));
        } catch (RuntimeException e) {
            throw new StartupException("cannot start the cluster member on " + settings.listenHost() + ":"
                    + settings.clusterPort() + ": " + rootMessage(e), e);
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
        Cluster cluster = Cluster.get(system);
        if (settings.seedNodes().isEmpty()) {
            cluster.manager().tell(Join.create(cluster.selfMember().address()));
        } else {
            cluster.manager().tell(new JoinSeedNodes(settings.seedNodes().stream()
                    .map(s -> org.apache.pekko.actor.AddressFromURIString.parse("pekko://spreadosd@" + s)).toList()));
        }
        if (settings.hasRole("cs")) {
            createJournalSchema();
        }
        ClusterSingleton singleton = ClusterSingleton.get(system);
        ActorRef<ConfigServer.Command> configServer = singleton.init(SingletonActor.of(ConfigServer.create(), "config-server")
                .withSettings(ClusterSingletonSettings.create(system).withRole("cs")));
        system.systemActorOf(view.subscriber(configServer), "cluster-view", Props.empty());

        Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("spreadosd.blocking-io-dispatcher"));
        Materializer mat = Materializer.matFromSystem(system);
        if (settings.hasRole("ds")) {
            dataStore = openDataStore();
            BlobStreamServer blobs = new BlobStreamServer(dataStore, blocking, mat, settings.uploadIdleTimeout());
            bind("data stream", settings.dataPort(), blobs::handle);
            system.systemActorOf(DataServer.create(settings.nodeInfo(), configServer), "data-server", Props.empty());
        }
        if (settings.hasRole("gw")) {
            mds = openMetadataStore();
            Gateway gateway = new Gateway(mds, view, new BlobStreamClient(system), blocking, settings.mode(), settings.location(), mat);
            ErrorPages pages = errorPages();
            HttpApi api = new HttpApi(new ObjectEndpoints(gateway, pages, mat, settings.maxFormBytes(), settings.maxKeyBytes()),
                    new DirectEndpoint(dataStore, blocking), pages, mat, settings.maxKeyBytes());
            scheduleGarbageScan(gateway);
            awaitConfiguration();
            if (settings.httpPort() > 0) {
                bind("HTTP", settings.httpPort(), api::handle);
            }
            bindRpc(gateway, mat);
        }
        // Connection pools to other nodes close before the actor system stops, so their shutdown is not reported as a failure.
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "close-http-pools", () ->
                Http.get(system).shutdownAllConnectionPools().thenApply(ignored -> Done.getInstance()));
        startManagement();
        log.info("SpreadOSD node ready: nid={} name={} roles={} rsids={} location={} http={} data={} cluster={} store={}",
                settings.nid(), settings.name(), settings.roles(), settings.rsids(), settings.location(),
                settings.httpPort() > 0 ? settings.httpPort() : "off", settings.dataPort(), settings.clusterPort(), settings.store());
    }

    private void scheduleGarbageScan(Gateway gateway) {
        system.scheduler().scheduleWithFixedDelay(settings.gcInterval(), settings.gcInterval(), () ->
                gateway.sweepStaleReservations(settings.gcPendingGrace()).whenComplete((n, e) -> {
                    if (e != null) {
                        log.warn("garbage scan failed: {}", rootMessage(e));
                    }
                }), system.executionContext());
    }

    /** The config server's journal tables, created on first start. */
    private void createJournalSchema() {
        try {
            org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils.createIfNotExists(system)
                    .toCompletableFuture().get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException("cannot create the config server journal: " + rootMessage(e), e);
        }
    }

    /** A gateway opens for requests once it knows where the data lives; a DS waits to see itself registered. */
    private void awaitConfiguration() {
        try {
            view.when(c -> settings.hasRole("ds") ? c.node(settings.nid()).isPresent() : !c.nodes().isEmpty())
                    .get(settings.startupTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StartupException("no cluster configuration from the config server within " + settings.startupTimeout()
                    + " (is a CS running and reachable?)");
        } catch (InterruptedException | ExecutionException e) {
            throw new StartupException("interrupted while waiting for the cluster configuration", e);
        }
    }

    private DataStore openDataStore() {
        try {
            return new DataStore(settings.store(), settings.maxObjectBytes());
        } catch (IOException e) {
            throw new StartupException("cannot use store directory " + settings.store() + ": " + e.getMessage(), e);
        }
    }

    private MetadataStore openMetadataStore() {
        String uri = settings.mds().isEmpty() ? MdsUri.embeddedH2(settings.store().resolve("mds")) : MdsUri.toJdbcUrl(settings.mds());
        try {
            MetadataStore store = new JdbcMetadataStore(uri, settings.mdsPoolSize(), VersionClock.system());
            CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "close-mds", () -> {
                store.close();
                return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
            });
            return store;
        } catch (RuntimeException e) {
            throw new StartupException("cannot open the metadata store " + MdsUri.redact(uri) + ": " + rootMessage(e), e);
        }
    }

    private ErrorPages errorPages() {
        try {
            return ErrorPages.load(settings.errorPage().isEmpty() ? null : Path.of(settings.errorPage()));
        } catch (IOException e) {
            throw new StartupException("cannot read the HTTP error page template " + settings.errorPage() + ": " + e.getMessage(), e);
        }
    }

    private void bind(String what, int port, Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        CompletionStage<ServerBinding> binding = Http.get(system).newServerAt(settings.listenHost(), port).bind(handler::apply);
        try {
            ServerBinding b = binding.toCompletableFuture().get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            b.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
            log.info("{} listening on {}", what, b.localAddress());
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException("cannot listen for " + what + " on " + settings.listenHost() + ":" + port + ": "
                    + rootMessage(e), e);
        }
    }

    private void bindRpc(Gateway gateway, Materializer mat) {
        RpcServer rpc = new RpcServer(gateway, mat, settings.maxRpcMessageBytes(), settings.advertiseHost() + ":" + settings.rpcPort());
        try {
            var binding = rpc.bind(system, settings.listenHost(), settings.rpcPort()).toCompletableFuture()
                    .get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "unbind-rpc",
                    () -> binding.unbind().thenApply(ignored -> Done.getInstance()));
            log.info("MessagePack-RPC listening on {}", binding.localAddress());
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException("cannot listen for MessagePack-RPC on " + settings.listenHost() + ":" + settings.rpcPort()
                    + ": " + rootMessage(e), e);
        }
    }

    private void startManagement() {
        try {
            PekkoManagement.get(system.classicSystem()).start().toCompletableFuture().get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            throw new StartupException("cannot start Pekko Management on port " + settings.managementPort() + ": " + rootMessage(e), e);
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
        m.put("pekko-persistence-jdbc.shared-databases.spread.db.url",
                "jdbc:h2:file:" + s.store().resolve("cs").resolve("journal") + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE");
        return ConfigFactory.parseMap(m).withFallback(ConfigFactory.empty().withValue("spreadosd.store",
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
    }
}
