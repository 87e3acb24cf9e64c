package org.spreadosd.rpc;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.msgpack.value.Value;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.edge.ClientLimits;
import org.spreadosd.edge.ConnectionGate;
import org.spreadosd.edge.NodeClients;
import org.spreadosd.failure.SpreadFailure;

/**
 * The MessagePack-RPC server of rpc-api.md on Pekko Streams TCP: a stream of MessagePack values per
 * connection, requests pipelined and answered as they complete (matched by msgid), notifications
 * run without an answer. A stream that is not MessagePack-RPC closes only its own connection. Each
 * connection holds at most its byte budget ({@link ConnectionPipeline}); the figures are in the MBean
 * {@code org.spreadosd:type=RpcConnections,port=<port>}.
 *
 * <p>What protects the node from its clients is the node's {@link NodeClients}: each accepted connection is admitted
 * by the port's {@link ConnectionGate} (or closed at once), and draws on the node's buffer budget; the limits are
 * {@code spreadosd.clients.rpc.*}. Floods are logged once per interval with a count ({@link IntervalLog}).
 */
public final class RpcServer {
    private static final Logger log = LoggerFactory.getLogger(RpcServer.class);
    private static final int PIPELINE = 64;
    /** Refused and evicted connections are logged at most once in this long, with their count. */
    private static final Duration LOG_INTERVAL = Duration.ofSeconds(10);
    /**
     * The deepest nesting msgpack-core's recursive decoder is given: far below what overflows a thread's stack, far
     * above what a request of this API needs (4).
     */
    private static final int MAX_DECODABLE_DEPTH = 512;

    private final RpcHandler service;
    private final long maxMessageBytes;
    private final long maxInFlightBytes;
    private final RpcConnectionStats stats;
    private final IntervalLog refusedLog = new IntervalLog(log, "MessagePack-RPC connections refused", LOG_INTERVAL);
    private final IntervalLog cutLog = new IntervalLog(
            log, "MessagePack-RPC connections closed for a message refused before its msgid", LOG_INTERVAL);
    private final IntervalLog evictedLog = new IntervalLog(
            log, "MessagePack-RPC connections without a call in progress closed at the connection limit", LOG_INTERVAL);

    /**
     * @param maxInFlightBytes the bytes one connection may hold at once
     *     ({@code spreadosd.rpc.max-in-flight-bytes-per-connection})
     */
    public RpcServer(RpcHandler service, long maxMessageBytes, long maxInFlightBytes) {
        this.service = service;
        this.maxMessageBytes = maxMessageBytes;
        this.maxInFlightBytes = maxInFlightBytes;
        this.stats = new RpcConnectionStats(maxInFlightBytes);
    }

    public CompletionStage<Tcp.ServerBinding> bind(ActorSystem<?> system, String host, int port) {
        Materializer mat = Materializer.matFromSystem(system);
        long readBytes = system.settings().config().getBytes("pekko.io.tcp.direct-buffer-size");
        ClientLimits limits = NodeClients.get(system).limits();
        if (limits.maxNestingDepth() < 1 || limits.maxNestingDepth() > MAX_DECODABLE_DEPTH) {
            throw new IllegalArgumentException(MsgpackFrames.MAX_NESTING_DEPTH + " must be between 1 and "
                    + MAX_DECODABLE_DEPTH + ", got " + limits.maxNestingDepth());
        }
        ConnectionGate gate = NodeClients.get(system).rpcGate();
        Flow<ByteString, ByteString, NotUsed> closeAtOnce = Flow.fromSinkAndSource(Sink.cancelled(), Source.empty());
        return Tcp.get(system)
                .bind(host, port)
                .to(Sink.foreach(connection -> {
                    InetSocketAddress remote = connection.remoteAddress();
                    ConnectionPipeline pipeline = pipeline(system, remote.toString(), readBytes, limits);
                    ConnectionGate.Admission admission = gate.admit(remote.getAddress(), pipeline);
                    if (admission instanceof ConnectionGate.Admission.Admitted admitted) {
                        pipeline.onStop(admitted.ticket()::release);
                        connection.handleWith(Flow.fromGraph(pipeline), mat);
                    } else if (admission instanceof ConnectionGate.Admission.Refused refusal) {
                        refusedLog.note(refusal.reason());
                        connection.handleWith(closeAtOnce, mat);
                    }
                }))
                .run(mat)
                .thenApply(binding -> {
                    Runnable unregister = stats.register(binding.localAddress().getPort());
                    system.getWhenTerminated().thenRun(unregister);
                    return binding;
                });
    }

    /** One connection: bytes in, messages, calls (several at once, within the budget), answers out as they complete. */
    ConnectionPipeline pipeline(ActorSystem<?> system, String peer, long readBytes, ClientLimits limits) {
        AtomicBoolean newSpec = new AtomicBoolean(false);
        ConnectionPipeline.Calls calls = new ConnectionPipeline.Calls() {
            @Override
            public CompletionStage<ConnectionPipeline.Answer> run(ByteString message) {
                if (MsgpackFrames.usesNewSpec(message)) {
                    newSpec.set(true);
                }
                return handle(message, newSpec);
            }

            @Override
            public ByteString refusal(ByteString head, MsgpackFrames.RefusedException e) {
                long msgid = MsgpackFrames.requestId(head);
                if (msgid < 0) {
                    throw e;
                }
                log.warn(
                        "refusing a MessagePack-RPC request from {} (msgid {}): {}; closing the connection",
                        peer,
                        msgid,
                        e.getMessage());
                return RpcWriter.response(msgid, e.getMessage(), null, newSpec.get());
            }

            @Override
            public void closing(MsgpackFrames.MalformedStreamException e) {
                if (e instanceof MsgpackFrames.RefusedException) {
                    // a message refused before its msgid arrived: what a flood of stalled connections looks like
                    cutLog.note(peer + ": " + e.getMessage());
                } else {
                    log.warn("closing MessagePack-RPC connection from {}: {}", peer, e.getMessage());
                }
            }

            @Override
            public void idle(Duration timeout) {
                log.debug("closing MessagePack-RPC connection from {}: idle for {}", peer, timeout);
            }

            @Override
            public void evicted(String why) {
                evictedLog.note(why);
            }
        };
        return new ConnectionPipeline(
                calls,
                PIPELINE,
                maxMessageBytes,
                (int) limits.maxNestingDepth(),
                limits.maxElements(),
                maxInFlightBytes,
                readBytes,
                stats,
                NodeClients.get(system).budget(),
                limits.rpc());
    }

    private CompletionStage<ConnectionPipeline.Answer> handle(ByteString frame, AtomicBoolean newSpec) {
        Value message;
        try {
            message = MessageValues.decode(frame);
        } catch (IOException | RuntimeException e) {
            throw new MsgpackFrames.MalformedStreamException("undecodable message: " + e.getMessage());
        }
        List<Value> parts = message.isArrayValue() ? message.asArrayValue().list() : List.of();
        if (parts.size() == 4
                && isInt(parts.get(0), 0)
                && parts.get(1).isIntegerValue()
                && isName(parts.get(2))
                && parts.get(3).isArrayValue()) {
            long msgid = parts.get(1).asIntegerValue().toLong();
            return call(name(parts.get(2)), parts.get(3).asArrayValue().list())
                    .handle((result, e) -> RpcWriter.answer(
                            msgid, e == null ? null : errorMessage(e), e == null ? result : null, newSpec.get()));
        }
        if (parts.size() == 3
                && isInt(parts.get(0), 2)
                && isName(parts.get(1))
                && parts.get(2).isArrayValue()) {
            String method = name(parts.get(1));
            return call(method, parts.get(2).asArrayValue().list()).handle((result, e) -> {
                if (e != null) {
                    log.info("notification {} failed: {}", method, errorMessage(e));
                }
                // nobody reads a notification's result: what it reserved goes back now
                RpcWriter.release(result);
                return ConnectionPipeline.Answer.of(ByteString.emptyByteString());
            });
        }
        throw new MsgpackFrames.MalformedStreamException(
                "not a MessagePack-RPC request or notification: " + abbreviate(message));
    }

    private CompletionStage<Object> call(String method, List<Value> params) {
        try {
            return service.call(method, params);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static String errorMessage(Throwable e) {
        SpreadFailure f = SpreadFailure.unwrap(e);
        if (!f.code().expected()) {
            log.error("RPC call failed unexpectedly", f.getCause());
        }
        return f.rpcError();
    }

    private static boolean isInt(Value v, int expected) {
        return v.isIntegerValue()
                && v.asIntegerValue().isInIntRange()
                && v.asIntegerValue().toInt() == expected;
    }

    private static boolean isName(Value v) {
        return v.isStringValue() || v.isBinaryValue();
    }

    private static String name(Value v) {
        return v.isStringValue()
                ? v.asStringValue().asString()
                : new String(v.asBinaryValue().asByteArray(), StandardCharsets.UTF_8);
    }

    private static String abbreviate(Value v) {
        String s = v.toString();
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
