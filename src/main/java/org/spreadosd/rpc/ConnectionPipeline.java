package org.spreadosd.rpc;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.spreadosd.edge.BudgetReservation;
import org.spreadosd.edge.ClientBufferBudget;
import org.spreadosd.edge.ClientLimits;
import org.spreadosd.edge.ConnectionGate;

/**
 * One MessagePack-RPC connection: cuts its bytes into messages, runs up to {@code maxCalls} of them at once
 * and sends each answer as soon as it is ready (pipelining, answers matched by msgid).
 *
 * <p>The bytes a connection holds (input not yet cut into messages, requests being served, answers not yet
 * written) stay within {@code budgetBytes}: the socket is read only while one more read still fits. A
 * pipelining client is thereby slowed by TCP back-pressure, never refused. A single message larger than the
 * budget (up to the maximum message size) is still read and served, alone: once nothing else is held, the
 * connection reads on until that message is complete.
 *
 * <p>What it holds and what the message in assembly has declared is also reserved from the node's
 * {@link ClientBufferBudget}, shared by all clients: a declaration that does not fit is refused (an error answer,
 * then the connection closes); a read that does not fit waits, the socket unread, and is retried on a timer.
 * Framing is one {@link MsgpackFrames.Scanner} fed each read once, so a message beyond the size, nesting or value
 * limits is refused before it is decoded. As the port's {@link ConnectionGate.Connection} it tells the gate when it
 * was last active and whether it is busy, and closes when evicted; it closes itself after the idle timeout and
 * refuses a message arriving slower than the minimum rate ({@link ClientLimits.Port}).
 */
final class ConnectionPipeline extends GraphStage<FlowShape<ByteString, ByteString>>
        implements ConnectionGate.Connection {
    static final String MIN_RATE_SETTING = "spreadosd.clients.rpc.message-min-rate";

    /**
     * A call's answer and what was reserved in the node's budget for the bytes in it before they were read (a
     * version's data): the connection takes the reservations over when it queues the answer, so those bytes are
     * counted once; an answer its connection never takes (closed meanwhile) gives them back.
     */
    record Answer(ByteString bytes, List<BudgetReservation> reservations) {
        static Answer of(ByteString bytes) {
            return new Answer(bytes, List.of());
        }

        /** The reserved bytes, now the caller's to give back; 0 if taken or released before. */
        long claim() {
            long sum = 0;
            for (BudgetReservation r : reservations) {
                sum += r.claim();
            }
            return sum;
        }

        void release() {
            reservations.forEach(BudgetReservation::release);
        }
    }

    /** What the pipeline does with complete messages. */
    interface Calls {
        /**
         * Runs one complete message; an empty answer is sent nowhere (a notification).
         *
         * @throws MsgpackFrames.MalformedStreamException when it is not a request or notification
         */
        CompletionStage<Answer> run(ByteString message);

        /**
         * The answer to a message refused from its first bytes (too large, too deep, too many values, no room in
         * the node's budget, too slow), after which the connection closes.
         *
         * @throws MsgpackFrames.MalformedStreamException when it cannot be answered (no msgid): the connection
         *     closes at once
         */
        ByteString refusal(ByteString head, MsgpackFrames.RefusedException e);

        /** A malformed stream ends the connection; this is its one log line. */
        void closing(MsgpackFrames.MalformedStreamException e);

        /** The connection is closed for having been idle that long. */
        void idle(Duration timeout);

        /** The connection is closed to make room at the port's connection limit. */
        void evicted(String why);
    }

    private final Inlet<ByteString> in = Inlet.create("rpc.in");
    private final Outlet<ByteString> out = Outlet.create("rpc.out");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
    private final Calls calls;
    private final int maxCalls;
    private final long maxMessageBytes;
    private final int maxDepth;
    private final long maxElements;
    private final long budgetBytes;
    private final long readBytes;
    private final RpcConnectionStats stats;
    private final ClientBufferBudget nodeBudget;

    private static final String RETRY = "retry";
    private static final String TICK = "tick";
    private final ClientLimits.Port patience;
    private volatile long lastActiveNanos = System.nanoTime();
    /** A call is running or waiting, or an answer is unsent, or a read waits for room in the node's budget. */
    private volatile boolean working;
    /** Part of a message has arrived. */
    private volatile boolean assembling;
    /** The server waits for the client's bytes (it is not holding back reading). */
    private volatile boolean reading;

    /**
     * A message in assembly whose bytes stopped arriving this long ago, while the server waits for them, no longer
     * keeps its connection from eviction: at the connection limit a flood of connections that each sent a byte
     * must not lock out every new client until the rate window cuts them.
     */
    static final Duration STALLED = Duration.ofSeconds(1);
    /** Closes the running connection; null until it runs. */
    private Consumer<String> evictor;
    /** An eviction asked for before the connection ran. */
    private String evictedEarly;

    private Runnable onStop = () -> {};
    /** How soon a connection paused for the node's budget tries again. */
    private static final Duration RETRY_INTERVAL = Duration.ofMillis(100);

    /**
     * @param readBytes the most one socket read delivers ({@code pekko.io.tcp.direct-buffer-size}): reading goes
     *     on only while that much more still fits in the budget
     */
    ConnectionPipeline(
            Calls calls,
            int maxCalls,
            long maxMessageBytes,
            int maxDepth,
            long maxElements,
            long budgetBytes,
            long readBytes,
            RpcConnectionStats stats,
            ClientBufferBudget nodeBudget,
            ClientLimits.Port patience) {
        this.calls = calls;
        this.maxCalls = maxCalls;
        this.maxMessageBytes = maxMessageBytes;
        this.maxDepth = maxDepth;
        this.maxElements = maxElements;
        this.budgetBytes = budgetBytes;
        this.readBytes = readBytes;
        this.stats = stats;
        this.nodeBudget = nodeBudget;
        this.patience = patience;
    }

    /** Runs when the connection is gone (its place at the gate is given back). */
    void onStop(Runnable action) {
        this.onStop = action;
    }

    @Override
    public long lastActiveNanos() {
        return lastActiveNanos;
    }

    @Override
    public boolean busy() {
        return working || (assembling && (!reading || System.nanoTime() - lastActiveNanos < STALLED.toNanos()));
    }

    @Override
    public void evict(String why) {
        Consumer<String> running;
        synchronized (this) {
            running = evictor;
            if (running == null) {
                evictedEarly = why;
                return;
            }
        }
        running.accept(why);
    }

    private synchronized String attach(Consumer<String> evictor) {
        this.evictor = evictor;
        return evictedEarly;
    }

    /** How often a connection checks its idle time and the rate of the message it is receiving. */
    private Duration tickInterval() {
        Duration shortest = patience.idleTimeout();
        if (patience.minRate() > 0 && patience.rateWindow().compareTo(shortest) < 0) {
            shortest = patience.rateWindow();
        }
        Duration quarter = shortest.dividedBy(4);
        return quarter.compareTo(MIN_TICK) < 0 ? MIN_TICK : quarter.compareTo(MAX_TICK) > 0 ? MAX_TICK : quarter;
    }

    private static final Duration MIN_TICK = Duration.ofMillis(50);
    private static final Duration MAX_TICK = Duration.ofSeconds(1);

    @Override
    public FlowShape<ByteString, ByteString> shape() {
        return shape;
    }

    /** A call's answer (empty for a notification) or its failure, with the size of the request it answers. */
    private record Done(long requestBytes, Answer answer, Throwable failure) {}

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new TimerGraphStageLogic(shape) {
            private final MsgpackFrames.Scanner scanner =
                    new MsgpackFrames.Scanner(maxMessageBytes, maxDepth, maxElements);
            /** The bytes of the message being assembled, as they arrived (scanned once, copied once when complete). */
            private ByteString assembly = ByteString.emptyByteString();
            /** Complete messages waiting for a free call. */
            private final Deque<ByteString> ready = new ArrayDeque<>();
            /** The bytes of {@code assembly} and {@code ready}. */
            private long inputBytes;

            private final Deque<ByteString> answers = new ArrayDeque<>();
            private long requestBytes;
            private long answerBytes;
            private int running;
            private boolean refused;
            private boolean paused;
            private long reported;
            /** What this connection has taken from the node's budget: at least what it holds and has declared. */
            private long reserved;
            /** A read that did not fit in the node's budget yet: framed once it does. */
            private ByteString unreserved;

            private AsyncCallback<Done> finished;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        lastActiveNanos = System.nanoTime();
                        unreserved = grab(in);
                        step();
                    }

                    @Override
                    public void onUpstreamFinish() {
                        step();
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        step();
                    }
                });
            }

            @Override
            public void preStart() {
                finished = createAsyncCallback(done -> {
                    if (done.failure() != null) {
                        // Errors are answers; a call whose future fails is a bug, and its connection cannot go on.
                        failStage(done.failure());
                        return;
                    }
                    running--;
                    requestBytes -= done.requestBytes();
                    // what the call reserved for its answer's bytes is this connection's reservation now
                    reserved += done.answer().claim();
                    ByteString answer = done.answer().bytes();
                    if (!answer.isEmpty()) {
                        answers.add(answer);
                        answerBytes += answer.size();
                        // already in memory: counted whether it fits or not, so that others wait while it is held
                        hold(holding());
                    }
                    step();
                });
                AsyncCallback<String> evicted = createAsyncCallback(why -> {
                    calls.evicted(why);
                    completeStage();
                });
                stats.opened();
                String early = attach(evicted::invoke);
                if (early != null) {
                    calls.evicted(early);
                    completeStage();
                    return;
                }
                scheduleWithFixedDelay(TICK, tickInterval(), tickInterval());
                step();
            }

            @Override
            public void postStop() {
                stats.closed(reported);
                nodeBudget.release(reserved);
                reserved = 0;
                onStop.run();
            }

            @Override
            public void onTimer(Object key) {
                if (TICK.equals(key) && !checkPatience()) {
                    return;
                }
                step();
            }

            /** When the current message's rate window began (-1: no message in assembly, or not being read). */
            private long windowStart = -1;
            /** Bytes of the current message scanned when its rate window began. */
            private long windowFrom;

            /**
             * Closes an idle connection; refuses a message that arrives slower than the minimum rate. Whether the
             * connection goes on (to send a refusal at least).
             */
            private boolean checkPatience() {
                long now = System.nanoTime();
                if (!working
                        && !assembling
                        && now - lastActiveNanos > patience.idleTimeout().toNanos()) {
                    calls.idle(patience.idleTimeout());
                    completeStage();
                    return false;
                }
                if (patience.minRate() <= 0 || refused || scanner.scanned() == 0 || !hasBeenPulled(in)) {
                    // only a message being read is timed: one the server does not read (back-pressure) is not late
                    windowStart = -1;
                    return true;
                }
                if (windowStart < 0) {
                    windowStart = now;
                    windowFrom = scanner.scanned();
                    return true;
                }
                long window = patience.rateWindow().toNanos();
                if (now - windowStart < window) {
                    return true;
                }
                long arrived = scanner.scanned() - windowFrom;
                if (arrived * 1_000_000_000.0 / (now - windowStart) < patience.minRate()) {
                    refuse(new MsgpackFrames.RefusedException("message arrived at " + arrived + " bytes in "
                            + patience.rateWindow().toSeconds() + " s, slower than the minimum of "
                            + patience.minRate() + " bytes/s (" + MIN_RATE_SETTING + ")"));
                    return true;
                }
                windowStart = now;
                windowFrom = scanner.scanned();
                return true;
            }

            /** Starts what has arrived, sends what is ready, reads while the budget allows, ends when all is done. */
            private void step() {
                while (unreserved != null) {
                    int waiting = unreserved.size();
                    if (!takeRead()) {
                        return;
                    }
                    if (unreserved != null && unreserved.size() == waiting) {
                        break; // no room yet: retried on the timer
                    }
                }
                startCompleteMessages();
                if (isAvailable(out) && !answers.isEmpty()) {
                    ByteString answer = answers.poll();
                    answerBytes -= answer.size();
                    push(out, answer);
                    lastActiveNanos = System.nanoTime();
                }
                report();
                releaseSurplus();
                if (!isClosed(in) && !hasBeenPulled(in) && unreserved == null) {
                    if (mayRead()) {
                        paused = false;
                        pull(in);
                    } else if (!paused && running < maxCalls) {
                        paused = true;
                        stats.paused();
                    }
                }
                if ((isClosed(in) || refused)
                        && unreserved == null
                        && ready.isEmpty()
                        && running == 0
                        && answers.isEmpty()) {
                    completeStage();
                }
                working = unreserved != null || !ready.isEmpty() || running > 0 || !answers.isEmpty();
                assembling = scanner.scanned() > 0;
                reading = hasBeenPulled(in);
            }

            /**
             * Frames the read waiting for room in the node's budget if it fits now; else retries later, the socket
             * unread meanwhile (back-pressure). A message that declares more than the budget can take is refused.
             * Whether the connection goes on (false: a malformed stream failed it).
             */
            private boolean takeRead() {
                ByteString chunk = unreserved;
                // a read inside a declared message takes what its declaration reserved; beyond it, its own size
                long covered = declaredBeyondInput();
                long need = requestBytes + inputBytes + answerBytes + Math.max(chunk.size(), covered);
                if (reserve(need)) {
                    unreserved = null;
                } else if (covered > 0) {
                    // The part its declaration reserved is framed now, the rest waits: else a message whose
                    // reservation fills the budget would wait for itself when a read runs past its end.
                    int now = (int) Math.min(covered, chunk.size());
                    unreserved = now == chunk.size() ? null : chunk.drop(now);
                    chunk = chunk.take(now);
                } else {
                    scheduleOnce(RETRY, RETRY_INTERVAL);
                    return true;
                }
                try {
                    frame(chunk);
                    if (!reserve(holding())) {
                        throw new MsgpackFrames.RefusedException(nodeBudget.spentMessage(holding() - reserved));
                    }
                } catch (MsgpackFrames.RefusedException e) {
                    refuse(e);
                } catch (MsgpackFrames.MalformedStreamException e) {
                    calls.closing(e);
                    failStage(e);
                    return false;
                }
                return true;
            }

            /** What this connection must have reserved: what it holds and what its message in assembly declared. */
            private long holding() {
                return requestBytes + inputBytes + answerBytes + declaredBeyondInput();
            }

            /** Counts {@code bytes} in the node's budget whether they fit or not: for bytes already in memory. */
            private void hold(long bytes) {
                if (bytes > reserved) {
                    nodeBudget.take(bytes - reserved);
                    reserved = bytes;
                }
            }

            /** The bytes the message in assembly has declared beyond those that have arrived. */
            private long declaredBeyondInput() {
                return scanner.scanned() == 0 ? 0 : scanner.declared() - scanner.scanned();
            }

            /** Makes this connection's reservation at least {@code bytes}; whether the node's budget had room. */
            private boolean reserve(long bytes) {
                if (bytes <= reserved) {
                    return true;
                }
                if (!nodeBudget.tryReserve(bytes - reserved)) {
                    return false;
                }
                reserved = bytes;
                return true;
            }

            /** Gives back to the node what this connection no longer holds or expects. */
            private void releaseSurplus() {
                long keep = holding();
                if (reserved > keep) {
                    nodeBudget.release(reserved - keep);
                    reserved = keep;
                }
            }

            /** Cuts one read into messages: each byte is scanned once, where the message it belongs to left off. */
            private void frame(ByteString chunk) {
                inputBytes += chunk.size();
                // one buffer over the read's bytes: no copy for a read from the socket (a single array)
                ByteBuffer bytes = chunk.asByteBuffer();
                int base = bytes.position();
                int from = 0;
                while (from < chunk.size()) {
                    int end;
                    try {
                        int at = scanner.feed(bytes, base + from);
                        end = at < 0 ? -1 : at - base;
                    } catch (MsgpackFrames.MalformedStreamException e) {
                        assembly = assembly.concat(chunk.drop(from));
                        throw e;
                    }
                    if (end < 0) {
                        assembly = assembly.concat(chunk.drop(from));
                        return;
                    }
                    // kept as the reads that brought it: decoding reads the parts, a copy would double the memory
                    ready.add(assembly.concat(chunk.slice(from, end)));
                    assembly = ByteString.emptyByteString();
                    scanner.reset();
                    from = end;
                }
            }

            /** Answers the message in assembly with its refusal; the messages before it are still served. */
            private void refuse(MsgpackFrames.RefusedException e) {
                ByteString refusal;
                try {
                    refusal = calls.refusal(assembly, e);
                } catch (MsgpackFrames.MalformedStreamException unanswerable) {
                    calls.closing(unanswerable);
                    failStage(unanswerable);
                    return;
                }
                refused = true;
                // nothing after the refused message is read: a read waiting for room is dropped with it
                unreserved = null;
                scanner.reset();
                inputBytes -= assembly.size();
                assembly = ByteString.emptyByteString();
                answers.add(refusal);
                answerBytes += refusal.size();
                cancel(in);
            }

            private void startCompleteMessages() {
                while (running < maxCalls && !ready.isEmpty()) {
                    ByteString message = ready.poll();
                    inputBytes -= message.size();
                    start(message);
                }
            }

            private void start(ByteString message) {
                long size = message.size();
                CompletionStage<Answer> answer;
                try {
                    answer = calls.run(message);
                } catch (MsgpackFrames.MalformedStreamException e) {
                    calls.closing(e);
                    failStage(e);
                    return;
                }
                running++;
                lastActiveNanos = System.nanoTime();
                requestBytes += size;
                answer.whenComplete((a, e) -> finished.invokeWithFeedbackCompletionStage(new Done(size, a, e))
                        .whenComplete((delivered, gone) -> {
                            if (gone != null && a != null) {
                                // the connection ended before the answer: nobody takes its reservations over
                                a.release();
                            }
                        }));
            }

            /** One more read fits the budget, or nothing else is held while a message is still incomplete. */
            private boolean mayRead() {
                if (refused || running >= maxCalls) {
                    return false;
                }
                long held = held();
                return held + readBytes <= budgetBytes || (running == 0 && answers.isEmpty());
            }

            private long held() {
                return inputBytes + requestBytes + answerBytes;
            }

            private void report() {
                long held = held();
                stats.held(reported, held);
                reported = held;
            }
        };
    }
}
