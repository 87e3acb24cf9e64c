package org.spreadosd.edge;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.TLSProtocol.SslTlsInbound;
import org.apache.pekko.stream.TLSProtocol.SslTlsOutbound;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.TLSPlacebo;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A public HTTP port whose connections are admitted by the node's {@link ConnectionGate} and watched below the HTTP
 * layer ({@link HttpConnectionGuard}): bound with Pekko's TCP and joined with Pekko HTTP's server layer through a
 * TLS placebo, instead of {@code Http.newServerAt(...).bind}, whose max-connections leaves every client beyond the
 * limit waiting in the accept backlog and whose idle timeout every trickled byte resets. The gate replaces Pekko's
 * max-connections; spreadosd.clients.http's idle-timeout replaces pekko.http.server.idle-timeout here.
 */
public final class GatedHttpPort {
    private static final Logger log = LoggerFactory.getLogger(GatedHttpPort.class);
    private static final Duration LOG_EVERY = Duration.ofSeconds(10);
    /** A refused client gets its answer once it has sent something, so that it reads it instead of a reset. */
    private static final Duration REFUSAL_WAIT = Duration.ofSeconds(2);

    private GatedHttpPort() {}

    /**
     * The public HTTP API's port: the node's HTTP gate, spreadosd.clients.http's header and idle timeouts. Unbound
     * and its connections closed by CoordinatedShutdown, as with {@link #bind(ActorSystem, String, String, int,
     * ConnectionGate, Duration, Duration, Function)}.
     */
    public static CompletionStage<Tcp.ServerBinding> bindPublic(
            ActorSystem<?> system,
            String host,
            int port,
            Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        NodeClients clients = NodeClients.get(system);
        ClientLimits.Port limits = clients.limits().http();
        return bind(
                system, "HTTP", host, port, clients.httpGate(), limits.headerTimeout(), limits.idleTimeout(), handler);
    }

    /**
     * Binds {@code host:port}, each connection admitted by {@code gate} and held to the header and idle timeouts,
     * closed after an early answer with spreadosd.clients.http's linger settings; unbound and its connections
     * closed by CoordinatedShutdown.
     *
     * @param what the port as log lines name it
     */
    public static CompletionStage<Tcp.ServerBinding> bind(
            ActorSystem<?> system,
            String what,
            String host,
            int port,
            ConnectionGate gate,
            Duration headerTimeout,
            Duration idleTimeout,
            Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        Materializer mat = Materializer.matFromSystem(system);
        ServerSettings settings = ServerSettings.create(system.classicSystem());
        SharedKillSwitch all = KillSwitches.shared("http-port-" + port);
        HttpConnectionGuard.Counts counts = new HttpConnectionGuard.Counts();
        ClientLimits.Linger linger =
                ClientLimits.Linger.from(system.settings().config().getConfig(HttpConnectionGuard.SETTINGS));

        CompletionStage<Tcp.ServerBinding> binding = Tcp.get(system)
                // half-close: a connection whose answer is out keeps reading (the guard's lingering close)
                .bind(host, port, settings.getBacklog(), List.of(), true, Optional.empty())
                .to(Sink.foreach(incoming -> {
                    HttpConnectionGuard guard = new HttpConnectionGuard(headerTimeout, idleTimeout, linger, counts);
                    InetSocketAddress remote = incoming.remoteAddress();
                    ConnectionGate.Admission admission = gate.admit(remote.getAddress(), guard);
                    if (admission instanceof ConnectionGate.Admission.Admitted admitted) {
                        guard.admitted(admitted.ticket());
                        try {
                            incoming.handleWith(connectionFlow(system, settings, remote, guard, all, handler), mat);
                        } catch (RuntimeException e) {
                            // one connection that cannot be served must not end the port's accepting
                            admitted.ticket().release();
                            log.warn("{} connection from {} not served: {}", what, remote, e.toString());
                        }
                    } else if (admission instanceof ConnectionGate.Admission.Refused refused) {
                        log.debug("{} connection from {} refused: {}", what, remote, refused.reason());
                        incoming.handleWith(refusal(refused.reason()), mat);
                    }
                }))
                .run(mat);

        return binding.thenApply(bound -> {
            var logging = system.scheduler()
                    .scheduleWithFixedDelay(
                            LOG_EVERY, LOG_EVERY, new CountsLog(what, gate, counts, port), system.executionContext());
            CoordinatedShutdown.get(system)
                    .addTask(
                            CoordinatedShutdown.PhaseServiceUnbind(),
                            "unbind-" + what + "-" + port,
                            () -> bound.unbind().thenApply(ignored -> Done.getInstance()));
            CoordinatedShutdown.get(system)
                    .addTask(CoordinatedShutdown.PhaseServiceStop(), "close-" + what + "-" + port, () -> {
                        logging.cancel();
                        all.shutdown();
                        return CompletableFuture.completedFuture(Done.getInstance());
                    });
            return bound;
        });
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Flow<ByteString, ByteString, NotUsed> connectionFlow(
            ActorSystem<?> system,
            ServerSettings settings,
            InetSocketAddress remote,
            HttpConnectionGuard guard,
            SharedKillSwitch all,
            Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
        // the placebo's inbound SessionBytes are the SslTlsInbound the server layer takes
        BidiFlow<SslTlsOutbound, ByteString, ByteString, SslTlsInbound, NotUsed> placebo =
                (BidiFlow) TLSPlacebo.getInstance();
        BidiFlow<HttpResponse, ByteString, ByteString, HttpRequest, NotUsed> stack = Http.get(system)
                .serverLayer(settings, Optional.of(remote))
                .atop(placebo)
                .atop(guard.byteWatch(all));
        Flow<HttpRequest, HttpResponse, NotUsed> serve = Flow.of(HttpRequest.class)
                .map(guard::headersComplete)
                .mapAsync(1, request -> handler.apply(request).thenApply(response -> guard.watch(request, response)));
        return serve.join(stack);
    }

    /** A connection the gate refused: told why (503) once it sent its request, then closed. */
    private static Flow<ByteString, ByteString, NotUsed> refusal(String reason) {
        String body = "503 Service Unavailable: " + reason + "\n";
        ByteString answer = ByteString.fromString(
                "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body,
                StandardCharsets.UTF_8);
        return Flow.of(ByteString.class).takeWithin(REFUSAL_WAIT).take(1).map(first -> answer);
    }

    /** One line per interval with what the port's limits did, instead of a line per connection. */
    private static final class CountsLog implements Runnable {
        private final String what;
        private final ConnectionGate gate;
        private final HttpConnectionGuard.Counts counts;
        private final int port;
        private final long[] last = new long[5];

        CountsLog(String what, ConnectionGate gate, HttpConnectionGuard.Counts counts, int port) {
            this.what = what;
            this.gate = gate;
            this.counts = counts;
            this.port = port;
        }

        @Override
        public void run() {
            long[] now = {
                counts.evicted.get(),
                gate.refusals(),
                counts.headerTimeouts.get(),
                counts.idleClosed.get(),
                counts.lingered.get()
            };
            long[] delta = new long[now.length];
            boolean any = false;
            for (int i = 0; i < now.length; i++) {
                delta[i] = now[i] - last[i];
                any |= delta[i] != 0;
                last[i] = now[i];
            }
            if (any) {
                log.info(
                        "{} port {} in the last {} s: {} connections evicted at the limit of {}, {} refused,"
                                + " {} cut at the header timeout, {} closed idle, {} closed by the server with a lingering close; {} open",
                        what,
                        port,
                        LOG_EVERY.toSeconds(),
                        delta[0],
                        gate.maxConnections(),
                        delta[1],
                        delta[2],
                        delta[3],
                        delta[4],
                        gate.open());
            }
        }
    }
}
