package org.spreadosd.server;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.mds.H2TcpServer;
import org.spreadosd.mds.JdbcMetadataStore;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.mds.SwitchingMetadataStore;
import org.spreadosd.model.VersionClock;

/**
 * Opening the metadata store a node's gateway uses, and serving a config server's embedded H2 database.
 * Both block (JDBC): callers run them on the metadata store's dispatcher. What they open closes with the node.
 */
final class MetadataStoreOpening {
    private static final Logger log = LoggerFactory.getLogger(MetadataStoreOpening.class);

    private final NodeSettings settings;
    private final ClusterView view;
    private final ActorSystem<?> system;
    private final Executor metadata;

    MetadataStoreOpening(NodeSettings settings, ClusterView view, ActorSystem<?> system, Executor metadata) {
        this.settings = settings;
        this.view = view;
        this.system = system;
        this.metadata = metadata;
    }

    /**
     * The metadata store the configuration names, switched whenever it names another one; a node that runs
     * the config server itself (standalone) uses its own until the configuration names one.
     */
    MetadataStore open() {
        long deadline = System.nanoTime() + settings.startupTimeout().toNanos();
        while (true) {
            try {
                return openOnce();
            } catch (StartupException e) {
                // A database that does not answer in time (a loaded machine, a CS still starting) is waited for until
                // the start-up timeout; any other failure (a wrong URI or password) ends the start at once.
                if (!causedBy(e, SQLTransientConnectionException.class) || System.nanoTime() > deadline) {
                    throw e;
                }
                log.warn("{}; trying again", e.getMessage());
            }
        }
    }

    private MetadataStore openOnce() {
        String named = view.config().mdsUri();
        String uri = !named.isEmpty()
                ? named
                : settings.mds().isEmpty()
                        ? MdsUri.embeddedH2(settings.store().resolve("mds"))
                        : MdsUri.toJdbcUrl(settings.mds());
        try {
            SwitchingMetadataStore store = new SwitchingMetadataStore(
                    uri,
                    url -> new JdbcMetadataStore(
                            url,
                            settings.mdsPoolSize(),
                            VersionClock.system(),
                            system.settings().config().getBytes("spreadosd.ds.free-space-reserve")),
                    metadata);
            view.onChange(c -> store.switchTo(c.revision(), c.mdsUri()));
            // a change that arrived between the open and the listener's registration
            store.switchTo(view.config().revision(), view.config().mdsUri());
            closeWithNode("close-mds", store::close);
            return store;
        } catch (RuntimeException e) {
            throw new StartupException(
                    "cannot open the metadata store " + MdsUri.redact(uri) + ": " + Startup.rootMessage(e), e);
        }
    }

    /** The embedded H2 metadata database in {@code <store>/mds} (or --mds DIR), created here and served over TCP. */
    H2TcpServer serveEmbedded() {
        Path dir = settings.mds().isEmpty() ? settings.store().resolve("mds") : MdsUri.h2Directory(settings.mds());
        try {
            // Opened first, without the pool's 5 s connection timeout: opening (or recovering) the database can take
            // longer on a loaded machine, and once it is open the pool's connection is immediate. This connection
            // keeps the served database open while the node runs.
            Connection keeper = DriverManager.getConnection(MdsUri.embeddedH2(dir));
            closeWithNode("close-mds-keeper", () -> {
                try {
                    keeper.close();
                } catch (SQLException e) {
                    log.warn("closing the metadata database: {}", e.getMessage());
                }
            });
            new JdbcMetadataStore(MdsUri.embeddedH2(dir), 1, VersionClock.system()).close();
            boolean loopbackOnly = settings.listenHost().startsWith("127.")
                    || settings.listenHost().equals("localhost");
            H2TcpServer server = H2TcpServer.start(dir, settings.advertiseHost(), settings.dataPort(), !loopbackOnly);
            log.info("metadata store served over TCP: {} (database {})", server.url(), dir);
            return server;
        } catch (SQLException | RuntimeException e) {
            throw new StartupException(
                    "cannot serve the metadata store on port " + settings.dataPort() + ": " + Startup.rootMessage(e),
                    e);
        }
    }

    private void closeWithNode(String name, Runnable close) {
        CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), name, () -> {
            close.run();
            return CompletableFuture.completedFuture(Done.getInstance());
        });
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
