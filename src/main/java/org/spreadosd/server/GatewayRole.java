package org.spreadosd.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.ds.BlobStreamClient;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.gw.DataLinks;
import org.spreadosd.gw.Gateway;
import org.spreadosd.gw.http.DirectEndpoint;
import org.spreadosd.gw.http.ErrorPages;
import org.spreadosd.gw.http.HttpApi;
import org.spreadosd.gw.http.ObjectEndpoints;
import org.spreadosd.gw.rpc.RpcService;
import org.spreadosd.mds.MetadataStore;
import org.spreadosd.rpc.RpcHandler;

/**
 * The gateway role: once the configuration says where data and metadata live, it opens the metadata store
 * (unless the config server role of this node already did), serves the HTTP API and hands the guardian its
 * RPC methods; it also schedules the garbage scan of stale reservations.
 */
final class GatewayRole {
    private static final Logger log = LoggerFactory.getLogger(GatewayRole.class);

    sealed interface Command {}

    private record Ready(RpcHandler rpc, MetadataStore mds, Throwable error) implements Command {}

    private GatewayRole() {}

    /**
     * @param mds the metadata store the config server role opened, or null
     * @param dataServer this node's data server, or null
     */
    static Behavior<Command> create(
            NodeSettings settings,
            ClusterView view,
            BlobStreamClient blobs,
            MetadataStoreOpening mdsOpening,
            MetadataStore mds,
            NodeGuardian.DataServerStarted dataServer,
            WorkPools pools,
            ActorRef<NodeGuardian.Command> guardian) {
        return Behaviors.setup(ctx -> {
            ActorSystem<Void> system = ctx.getSystem();
            Materializer mat = Materializer.matFromSystem(system);
            boolean ownMds = settings.hasRole("cs");
            CompletionStage<Ready> ready = Startup.within(
                            view.when(c -> !c.nodes().isEmpty()
                                    && (ownMds || !c.mdsUri().isEmpty())),
                            settings.startupTimeout(),
                            () -> "no cluster configuration from the config server within " + settings.startupTimeout()
                                    + " (is a CS running and reachable?)")
                    .thenApplyAsync(config -> mds != null ? mds : mdsOpening.open(), pools.metadata())
                    .thenCompose(store -> {
                        Gateway gateway = gateway(settings, view, blobs, store, dataServer, pools.metadata(), mat);
                        scheduleGarbageScan(system, settings, gateway);
                        RpcHandler rpc = new RpcService(
                                gateway,
                                mat,
                                settings.maxRpcMessageBytes(),
                                ConfigServerRole.csAddress(settings),
                                dataServer == null ? null : dataServer.store()::items,
                                dataServer == null ? null : dataServer.replication()::toMap,
                                NodeClients.get(system).budget());
                        if (settings.httpPort() <= 0) {
                            return CompletableFuture.completedFuture(new Ready(rpc, store, null));
                        }
                        HttpApi api =
                                httpApi(settings, gateway, dataServer, pools.disk(), mat, NodeClients.get(system));
                        return Endpoints.publicHttp(system, settings, settings.httpPort(), api::handle)
                                .thenApply(b -> new Ready(rpc, store, null));
                    });
            ctx.pipeToSelf(ready, (r, e) -> e == null ? r : new Ready(null, null, e));
            return Behaviors.receive(Command.class)
                    .onMessage(Ready.class, r -> {
                        guardian.tell(
                                r.error() == null
                                        ? new NodeGuardian.GatewayStarted(r.rpc(), r.mds())
                                        : new NodeGuardian.RoleFailed(
                                                Startup.failure(r.error(), "cannot start the gateway")));
                        return Behaviors.same();
                    })
                    .build();
        });
    }

    private static Gateway gateway(
            NodeSettings settings,
            ClusterView view,
            BlobStreamClient blobs,
            MetadataStore mds,
            NodeGuardian.DataServerStarted dataServer,
            Executor metadata,
            Materializer mat) {
        DataLinks links = dataServer == null
                ? DataLinks.remote(blobs)
                : DataLinks.withLocal(
                        blobs, settings.nid(), dataServer.blobService().link());
        return new Gateway(mds, view, links, metadata, settings.mode(), settings.location(), settings.limits(), mat);
    }

    private static HttpApi httpApi(
            NodeSettings settings,
            Gateway gateway,
            NodeGuardian.DataServerStarted dataServer,
            Executor disk,
            Materializer mat,
            NodeClients clients) {
        ErrorPages pages = errorPages(settings);
        return new HttpApi(
                new ObjectEndpoints(gateway, pages, mat, settings.maxFormBytes(), settings.limits()),
                new DirectEndpoint(dataServer == null ? null : dataServer.store(), disk),
                pages,
                mat,
                settings.limits(),
                clients.limits().http(),
                clients.budget());
    }

    private static ErrorPages errorPages(NodeSettings settings) {
        try {
            return ErrorPages.load(settings.errorPage().isEmpty() ? null : Path.of(settings.errorPage()));
        } catch (IOException e) {
            throw new StartupException(
                    "cannot read the HTTP error page template " + settings.errorPage() + ": " + e.getMessage(), e);
        }
    }

    private static void scheduleGarbageScan(ActorSystem<?> system, NodeSettings settings, Gateway gateway) {
        system.scheduler()
                .scheduleWithFixedDelay(
                        settings.gcInterval(),
                        settings.gcInterval(),
                        () -> gateway.sweepStaleReservations(settings.gcPendingGrace())
                                .whenComplete((n, e) -> {
                                    if (e != null) {
                                        log.warn("garbage scan failed: {}", Startup.rootMessage(e));
                                    }
                                }),
                        system.executionContext());
    }
}
