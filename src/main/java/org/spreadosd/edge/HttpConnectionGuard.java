package org.spreadosd.edge;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.SubscriptionWithCancelException;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * One connection of a public HTTP port as its {@link ConnectionGate} and its deadlines see it. Pekko HTTP's own
 * idle timeout is reset by every byte, so headers trickled a byte at a time (slowloris) keep a connection forever;
 * this guard watches the bytes below the HTTP layer instead: the first byte of a request starts a header deadline
 * that later bytes do not move, the request side says when the headers were complete, and the response side when
 * the answer went out.
 *
 * <p>A connection is busy from the end of a request's headers until its response has been sent; a connection
 * reading headers counts as active since the request's first byte, so trickling does not make it look fresh to the
 * gate that evicts the longest-idle.
 *
 * <p>When the HTTP layer is done with a connection while its client may still be sending (an answer given before
 * the request's body was read: Pekko HTTP then closes the connection), this guard lingers: it lets the answer and
 * the FIN go out and reads and drops what comes in, bounded by {@link ClientLimits.Linger}, so that the client is
 * not reset before it has read its answer. Dropped bytes do not make the connection active: a lingering one is idle
 * since its answer went out, first to be evicted for room.
 */
final class HttpConnectionGuard implements ConnectionGate.Connection {
    static final String SETTINGS = "spreadosd.clients.http";
    static final String SETTING_HEADER_TIMEOUT = SETTINGS + ".header-timeout";

    /** What the port counts for its periodic log line. */
    static final class Counts {
        final AtomicLong headerTimeouts = new AtomicLong();
        final AtomicLong idleClosed = new AtomicLong();
        final AtomicLong evicted = new AtomicLong();
        final AtomicLong lingered = new AtomicLong();
    }

    private final Duration headerTimeout;
    private final Duration idleTimeout;
    private final ClientLimits.Linger linger;
    private final Counts counts;
    private final SharedKillSwitch kill = KillSwitches.shared("http-connection");
    private volatile long lastActive = System.nanoTime();
    /** nanoTime of the first byte of a request whose headers are not complete yet, or -1. */
    private volatile long headersSince = -1;
    /** The request being served (0: none); a finished response clears only its own. */
    private final AtomicLong serving = new AtomicLong();

    private long requests;
    private volatile ConnectionGate.Ticket ticket;

    HttpConnectionGuard(Duration headerTimeout, Duration idleTimeout, ClientLimits.Linger linger, Counts counts) {
        this.headerTimeout = headerTimeout;
        this.idleTimeout = idleTimeout;
        this.linger = linger;
        this.counts = counts;
    }

    void admitted(ConnectionGate.Ticket ticket) {
        this.ticket = ticket;
    }

    @Override
    public long lastActiveNanos() {
        long since = headersSince;
        return since >= 0 ? since : lastActive;
    }

    @Override
    public boolean busy() {
        return serving.get() != 0;
    }

    @Override
    public void evict(String why) {
        counts.evicted.incrementAndGet();
        kill.shutdown();
    }

    /** Between the TCP connection and the TLS placebo: watches bytes both ways, enforces the deadlines. */
    BidiFlow<ByteString, ByteString, ByteString, ByteString, ?> byteWatch(SharedKillSwitch port) {
        Flow<ByteString, ByteString, ?> out =
                Flow.of(ByteString.class).via(port.flow()).via(kill.flow());
        Flow<ByteString, ByteString, ?> in =
                Flow.of(ByteString.class).via(port.flow()).via(kill.flow());
        return BidiFlow.fromGraph(new Watch()).atop(BidiFlow.fromFlows(out, in));
    }

    /** Marks the request's headers complete: Pekko's parser hands a request on once its headers are in. */
    HttpRequest headersComplete(HttpRequest request) {
        headersSince = -1;
        serving.set(++requests);
        return request;
    }

    /** The response of the request being served, telling this guard when its last byte has been handed on. */
    HttpResponse watch(HttpRequest request, HttpResponse response) {
        long id = serving.get();
        HttpEntity entity = response.entity();
        // a HEAD answer's entity is never read, and a whole one is sent at once
        if (entity instanceof HttpEntity.Strict || request.method().equals(HttpMethods.HEAD)) {
            responseDone(id);
            return response;
        }
        var length = entity.getContentLengthOption();
        var data = entity.getDataBytes().watchTermination((mat, done) -> {
            done.whenComplete((d, e) -> responseDone(id));
            return mat;
        });
        return response.withEntity(
                length.isPresent()
                        ? HttpEntities.create(entity.getContentType(), length.getAsLong(), data)
                        : HttpEntities.createChunked(entity.getContentType(), data));
    }

    private void responseDone(long id) {
        lastActive = System.nanoTime();
        serving.compareAndSet(id, 0);
    }

    private void bytesIn() {
        long now = System.nanoTime();
        lastActive = now;
        if (serving.get() == 0 && headersSince < 0) {
            headersSince = now;
        }
    }

    private static ByteString timeoutAnswer(Duration headerTimeout) {
        String body = "408 Request Timeout: request headers not complete within " + headerTimeout.toMillis()
                + " ms of their first byte (" + SETTING_HEADER_TIMEOUT + ")\n";
        return ByteString.fromString(
                "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body,
                StandardCharsets.UTF_8);
    }

    private static final String LINGER = "linger";

    /** in1: bytes from the HTTP layer, out1: to the network; in2: bytes from the network, out2: to the HTTP layer. */
    private final class Watch extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {
        private final Inlet<ByteString> fromHttp = Inlet.create("HttpConnectionGuard.fromHttp");
        private final Outlet<ByteString> toNet = Outlet.create("HttpConnectionGuard.toNet");
        private final Inlet<ByteString> fromNet = Inlet.create("HttpConnectionGuard.fromNet");
        private final Outlet<ByteString> toHttp = Outlet.create("HttpConnectionGuard.toHttp");
        private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
                BidiShape.of(fromHttp, toNet, fromNet, toHttp);

        @Override
        public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
            return shape;
        }

        @Override
        public GraphStageLogic createLogic(Attributes inheritedAttributes) {
            return new TimerGraphStageLogic(shape) {
                private boolean cut;
                /** The HTTP layer reads no more: what the client sends is dropped (counted in {@code dropped}). */
                private boolean draining;
                /** The answer is out too: dropping until the linger's bounds. */
                private boolean lingering;

                private long dropped;
                private long lingerSince;
                private long lastDropped;

                {
                    setHandler(fromNet, new AbstractInHandler() {
                        @Override
                        public void onPush() {
                            if (!draining) {
                                bytesIn();
                                push(toHttp, grab(fromNet));
                                return;
                            }
                            dropped += grab(fromNet).size();
                            lastDropped = System.nanoTime();
                            if (dropped <= linger.maxBytes()) {
                                pull(fromNet);
                            } else if (lingering) {
                                completeStage();
                            } else {
                                cancel(fromNet); // the answer still goes out; Pekko's TCP drops the rest
                            }
                        }

                        @Override
                        public void onUpstreamFinish() {
                            if (lingering) {
                                completeStage(); // the client closed: nothing more to wait for
                            } else if (!isClosed(toHttp)) {
                                complete(toHttp); // the client's FIN: its answers may still go out
                            }
                        }
                    });
                    setHandler(toHttp, new AbstractOutHandler() {
                        @Override
                        public void onPull() {
                            pull(fromNet);
                        }

                        @Override
                        public void onDownstreamFinish(Throwable cause) {
                            if (cut || !(cause instanceof SubscriptionWithCancelException.NonFailureCancellation)) {
                                cancel(fromNet, cause);
                                return;
                            }
                            // the client may be writing a body the HTTP layer will not read: drop it, don't reset
                            draining = true;
                            lastDropped = System.nanoTime();
                            if (!hasBeenPulled(fromNet) && !isClosed(fromNet)) {
                                pull(fromNet);
                            }
                        }
                    });
                    setHandler(fromHttp, new AbstractInHandler() {
                        @Override
                        public void onPush() {
                            lastActive = System.nanoTime();
                            push(toNet, grab(fromHttp));
                        }

                        @Override
                        public void onUpstreamFinish() {
                            complete(toNet); // the answer's last bytes, then a FIN (the port half-closes)
                            if (!cut && !isClosed(fromNet)) {
                                startLinger();
                            }
                        }
                    });
                    setHandler(toNet, new AbstractOutHandler() {
                        @Override
                        public void onPull() {
                            if (!cut && !hasBeenPulled(fromHttp) && !isClosed(fromHttp)) {
                                pull(fromHttp);
                            }
                        }
                    });
                }

                @Override
                public void preStart() {
                    long tick = Math.min(headerTimeout.toMillis(), idleTimeout.toMillis()) / 4;
                    Duration every = Duration.ofMillis(Math.max(50, Math.min(1000, tick)));
                    scheduleWithFixedDelay("deadlines", every, every);
                }

                private void startLinger() {
                    counts.lingered.incrementAndGet();
                    lingering = true;
                    draining = true;
                    lingerSince = System.nanoTime();
                    lastDropped = lingerSince;
                    if (!isClosed(toHttp)) {
                        complete(toHttp); // the HTTP layer has said its last
                    }
                    if (!hasBeenPulled(fromNet)) {
                        pull(fromNet);
                    }
                    scheduleOnce(LINGER, linger.timeout());
                }

                /** Ends the linger at its first bound, else looks again when the nearer one is due. */
                private void lingerTimer() {
                    long now = System.nanoTime();
                    long silentLeft = linger.timeout().toNanos() - (now - lastDropped);
                    long timeLeft = linger.time().toNanos() - (now - lingerSince);
                    if (silentLeft <= 0 || timeLeft <= 0) {
                        completeStage();
                    } else {
                        scheduleOnce(LINGER, Duration.ofNanos(Math.min(silentLeft, timeLeft)));
                    }
                }

                @Override
                public void onTimer(Object key) {
                    if (LINGER.equals(key)) {
                        lingerTimer();
                        return;
                    }
                    if (cut || lingering) {
                        return;
                    }
                    long now = System.nanoTime();
                    long since = headersSince;
                    if (since >= 0 && !draining && serving.get() == 0 && now - since > headerTimeout.toNanos()) {
                        cut = true;
                        counts.headerTimeouts.incrementAndGet();
                        cancel(fromNet);
                        cancel(fromHttp);
                        emit(toNet, timeoutAnswer(headerTimeout), this::completeStage);
                    } else if (since < 0 && now - lastActive > idleTimeout.toNanos()) {
                        counts.idleClosed.incrementAndGet();
                        completeStage();
                    }
                }

                @Override
                public void postStop() {
                    ConnectionGate.Ticket t = ticket;
                    if (t != null) {
                        t.release();
                    }
                }
            };
        }
    }
}
