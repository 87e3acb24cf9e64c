package org.spreadosd.server;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.apache.pekko.stream.javadsl.Tcp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.edge.ConnectionGate;
import org.spreadosd.edge.GatedHttpPort;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.rpc.RpcHandler;
import org.spreadosd.rpc.RpcServer;

/** The ports a node listens on, each unbound by CoordinatedShutdown; a port that cannot be bound fails the start. */
final class Endpoints {
    private static final Logger log = LoggerFactory.getLogger(Endpoints.class);
    static final Duration BIND_TIMEOUT = Duration.ofSeconds(30);

    private Endpoints() {}

    /**
     * The public HTTP API's port: its connections admitted by the node's HTTP connection gate and held to
     * spreadosd.clients.http's header and idle timeouts ({@link GatedHttpPort}).
     */
    static CompletionStage<Done> publicHttp(
            ActorSystem<?> system,
            NodeSettings settings,
            int port,
            Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        return listening(
                system, settings, "HTTP", port, GatedHttpPort.bindPublic(system, settings.listenHost(), port, handler));
    }

    /**
     * A data server's node-to-node port. Internal, yet listening where attackers may reach it: a gate of its own
     * (Pekko HTTP's max-connections, gateways' pools being far smaller) and the header timeout keep slowloris from
     * cutting gateways off their data servers; the header deadline ends with the headers, so long streams are not
     * cut, and Pekko HTTP's idle timeout stays this port's.
     */
    static CompletionStage<Done> dataStream(
            ActorSystem<?> system,
            NodeSettings settings,
            int port,
            Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        Config pekko = system.settings().config().getConfig("pekko.http.server");
        int maxConnections = pekko.getInt("max-connections");
        ConnectionGate gate = new ConnectionGate("data stream", maxConnections, maxConnections);
        Duration idle = pekko.getString("idle-timeout").equals("infinite")
                ? Duration.ofDays(365)
                : pekko.getDuration("idle-timeout");
        Duration header = NodeClients.get(system).limits().http().headerTimeout();
        return listening(
                system,
                settings,
                "data stream",
                port,
                GatedHttpPort.bind(system, "data stream", settings.listenHost(), port, gate, header, idle, handler));
    }

    private static CompletionStage<Done> listening(
            ActorSystem<?> system,
            NodeSettings settings,
            String what,
            int port,
            CompletionStage<Tcp.ServerBinding> binding) {
        return Startup.within(binding, BIND_TIMEOUT, () -> "binding " + what + " timed out")
                .handle((b, e) -> {
                    if (e != null) {
                        throw new StartupException(
                                "cannot listen for " + what + " on " + settings.listenHost() + ":" + port + ": "
                                        + Startup.rootMessage(e),
                                e);
                    }
                    log.info("{} listening on {}", what, b.localAddress());
                    return Done.getInstance();
                });
    }

    static CompletionStage<Done> rpc(ActorSystem<?> system, NodeSettings settings, RpcHandler handler) {
        RpcServer rpc =
                new RpcServer(handler, settings.maxRpcMessageBytes(), settings.maxRpcInFlightBytesPerConnection());
        return Startup.within(
                        rpc.bind(system, settings.listenHost(), settings.rpcPort()),
                        BIND_TIMEOUT,
                        () -> "binding timed out")
                .handle((binding, e) -> {
                    if (e != null) {
                        throw new StartupException(
                                "cannot listen for MessagePack-RPC on " + settings.listenHost() + ":"
                                        + settings.rpcPort() + ": " + Startup.rootMessage(e),
                                e);
                    }
                    CoordinatedShutdown.get(system)
                            .addTask(
                                    CoordinatedShutdown.PhaseServiceUnbind(),
                                    "unbind-rpc",
                                    () -> binding.unbind().thenApply(ignored -> Done.getInstance()));
                    log.info("MessagePack-RPC listening on {}", binding.localAddress());
                    return Done.getInstance();
                });
    }

    static CompletionStage<Done> management(ActorSystem<?> system, NodeSettings settings) {
        return Startup.within(
                        PekkoManagement.get(system.classicSystem()).start(), BIND_TIMEOUT, () -> "starting timed out")
                .handle((uri, e) -> {
                    if (e != null) {
                        throw new StartupException(
                                "cannot start Pekko Management on port " + settings.managementPort() + ": "
                                        + Startup.rootMessage(e),
                                e);
                    }
                    return Done.getInstance();
                });
    }
}
