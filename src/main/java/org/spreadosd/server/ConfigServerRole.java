package org.spreadosd.server;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.cs.ConfigRpc;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.cs.FaultMarker;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.gw.VersionLocator;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.util.Supervised;

/**
 * The config server's parts on a cs-role node, beside the singleton itself: the FAULT marker, the metadata
 * store it serves or names for the cluster, and its RPC methods. It tells the guardian once they are ready.
 */
final class ConfigServerRole {
    private static final Logger log = LoggerFactory.getLogger(ConfigServerRole.class);

    sealed interface Command {}

    private record Ready(ConfigRpc rpc, MetadataStore mds, Throwable error) implements Command {}

    private ConfigServerRole() {}

    static Behavior<Command> create(
            NodeSettings settings,
            ClusterView view,
            ActorRef<ConfigServer.Command> configServer,
            BlobStreamClient blobs,
            MetadataStoreOpening mdsOpening,
            WorkPools pools,
            ActorRef<NodeGuardian.Command> guardian) {
        return Behaviors.setup(ctx -> {
            ctx.spawn(
                    Supervised.restarting(
                            FaultMarker.create(view, configServer, settings.faultGrace()), settings.restartBackoff()),
                    "fault-marker");
            Materializer mat = Materializer.matFromSystem(ctx.getSystem());
            // Captured here: the steps below run on other threads, where the context must not be touched.
            Scheduler scheduler = ctx.getSystem().scheduler();
            CompletionStage<ClusterConfig> current =
                    AskPattern.ask(configServer, ConfigServer.GetConfig::new, settings.startupTimeout(), scheduler);
            CompletionStage<Ready> ready = current.exceptionally(e -> {
                        throw Startup.failure(e, "the config server did not recover its configuration");
                    })
                    .thenComposeAsync(
                            config -> announceMetadataStore(scheduler, settings, configServer, mdsOpening, config),
                            pools.metadata())
                    .thenApplyAsync(
                            ignored -> {
                                MetadataStore mds = mdsOpening.open();
                                VersionLocator locator = new VersionLocator(mds, blobs, pools.metadata(), mat);
                                return new Ready(
                                        new ConfigRpc(configServer, scheduler, locator, csAddress(settings)),
                                        mds,
                                        null);
                            },
                            pools.metadata());
            ctx.pipeToSelf(ready, (r, e) -> e == null ? r : new Ready(null, null, e));
            return Behaviors.receive(Command.class)
                    .onMessage(Ready.class, r -> {
                        guardian.tell(
                                r.error() == null
                                        ? new NodeGuardian.ConfigServerStarted(r.rpc(), r.mds())
                                        : new NodeGuardian.RoleFailed(
                                                Startup.failure(r.error(), "cannot start the config server")));
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    /** Names this config server's metadata store (and cache) in the configuration when it is not named yet. */
    private static CompletionStage<ClusterConfig> announceMetadataStore(
            Scheduler scheduler,
            NodeSettings settings,
            ActorRef<ConfigServer.Command> configServer,
            MetadataStoreOpening mdsOpening,
            ClusterConfig current) {
        String announce = metadataStoreToAnnounce(settings, mdsOpening, current);
        boolean newCache =
                !settings.mdsCache().isEmpty() && !settings.mdsCache().equals(current.mdsCacheUri());
        if ((announce == null || announce.equals(current.mdsUri())) && !newCache) {
            return CompletableFuture.completedFuture(current);
        }
        String cacheUri = settings.mdsCache().isEmpty() ? null : settings.mdsCache();
        return AskPattern.<ConfigServer.Command, ClusterConfig>askWithStatus(
                        configServer,
                        r -> new ConfigServer.SetMds(announce, cacheUri, r),
                        Endpoints.BIND_TIMEOUT,
                        scheduler)
                .thenApply(c -> {
                    log.info(
                            "metadata store of the cluster set to {}",
                            announce == null ? current.mdsUri() : MdsUri.redact(announce));
                    return c;
                });
    }

    /**
     * The metadata store this config server names for the cluster, or null to leave the configuration's
     * choice as it is. A standalone node uses its own store until an operator names another; a dedicated
     * CS names its --mds URL or else serves its embedded database and names that.
     */
    private static String metadataStoreToAnnounce(
            NodeSettings settings, MetadataStoreOpening mdsOpening, ClusterConfig current) {
        if (settings.hasRole("gw")) {
            return null;
        }
        if (settings.mds().startsWith("jdbc:") && !settings.mds().startsWith("jdbc:h2:file:")) {
            return settings.mds();
        }
        String served = mdsOpening.serveEmbedded().url();
        // After `spreadctl set_mds`, a restarted CS must not switch the cluster back to its own database.
        boolean operatorChoseAnother = settings.mds().isEmpty()
                && !current.mdsUri().isEmpty()
                && !current.mdsUri().startsWith("jdbc:h2:tcp:");
        return operatorChoseAnother ? null : served;
    }

    /** The config server's RPC address as clients are told it. */
    static String csAddress(NodeSettings settings) {
        if (settings.hasRole("cs")) {
            return settings.advertiseHost() + ":" + settings.rpcPort();
        }
        return settings.csAddress().contains(":")
                ? settings.csAddress()
                : settings.csAddress() + ":" + NodeSettings.DEFAULT_CS_PORT;
    }
}
