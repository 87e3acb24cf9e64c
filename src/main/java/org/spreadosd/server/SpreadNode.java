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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cs.JournalDatabase;
import org.spreadosd.mds.MetadataStore;

/**
 * One SpreadOSD server process: a Pekko Cluster member carrying some of the roles cs, ds and gw. Its actor
 * system's guardian ({@link NodeGuardian}) starts the roles; this class starts the system, waits until the node
 * serves (or says why it cannot) and stops it. The standalone process carries all three roles and joins itself;
 * its parts still talk through the CS actor protocol and the node-to-node byte stream API, exactly as separate
 * processes do.
 */
public final class SpreadNode implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SpreadNode.class);

    private final ActorSystem<NodeGuardian.Command> system;
    private final NodeSettings settings;
    private final ClusterView view;
    private MetadataStore mds;

    private SpreadNode(ActorSystem<NodeGuardian.Command> system, NodeSettings settings, ClusterView view) {
        this.system = system;
        this.settings = settings;
        this.view = view;
    }

    /** Starts a node from {@code overrides} on top of the reference configuration, and waits until it serves. */
    public static SpreadNode start(Config overrides) {
        Config merged = overrides.withFallback(ConfigFactory.load());
        NodeSettings settings = NodeSettings.from(merged);
        prepareStore(settings.store());
        if (settings.hasRole("cs")) {
            // Before the cluster forms: the config server singleton may start on this node right after.
            createJournalSchema(settings);
        }
        ClusterView view = new ClusterView();
        CompletableFuture<NodeGuardian.Ready> ready = new CompletableFuture<>();
        ActorSystem<NodeGuardian.Command> system;
        try {
            system = ActorSystem.create(
                    NodeGuardian.create(settings, view, ready),
                    "spreadosd",
                    pekkoSettings(settings).withFallback(merged));
        } catch (RuntimeException e) {
            throw new StartupException(
                    "cannot start the cluster member on " + settings.listenHost() + ":" + settings.clusterPort() + ": "
                            + Startup.rootMessage(e),
                    e);
        }
        // A guardian that failed, or a data server refused after it started serving, ends the system.
        system.getWhenTerminated()
                .thenRun(() -> ready.completeExceptionally(new StartupException("the node stopped while starting")));
        SpreadNode node = new SpreadNode(system, settings, view);
        try {
            node.mds = awaitReady(ready, settings).mds();
            return node;
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
    }

    /** Every step has its own deadline; this one only guards against a step that never ends. */
    private static NodeGuardian.Ready awaitReady(CompletableFuture<NodeGuardian.Ready> ready, NodeSettings settings) {
        Duration limit = settings.startupTimeout().multipliedBy(4).plus(Endpoints.BIND_TIMEOUT.multipliedBy(4));
        try {
            return ready.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new StartupException("the node did not become ready within " + limit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while starting", e);
        } catch (ExecutionException e) {
            throw Startup.failure(e, "cannot start");
        }
    }

    /** The config server's journal tables, created on first start. */
    private static void createJournalSchema(NodeSettings settings) {
        try {
            JournalDatabase.of(settings.csJournal(), settings.store().resolve("cs"))
                    .createSchemaIfMissing();
        } catch (RuntimeException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }

    private static void prepareStore(Path store) {
        try {
            Files.createDirectories(store);
            Path probe = Files.createTempFile(store, ".write-test", "");
            Files.delete(probe);
        } catch (IOException e) {
            throw new StartupException("store directory " + store + " is not writable: " + Startup.rootMessage(e), e);
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
        m.put("spreadosd." + NodeSettings.MDS_THREADS, s.mdsThreads());
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

    public NodeSettings settings() {
        return settings;
    }

    /** The metadata store this node's gateway uses, or null on a node without the gw role. */
    public MetadataStore metadataStore() {
        return mds;
    }

    /** This node's view of the cluster configuration and membership. */
    public ClusterView view() {
        return view;
    }

    public ActorSystem<?> system() {
        return system;
    }

    public CompletionStage<Done> whenTerminated() {
        return system.getWhenTerminated();
    }

    /** Stops the node; CoordinatedShutdown unbinds its ports and closes its stores. */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            log.warn("node did not stop within 60 s: {}", e.toString());
        }
    }
}
