package org.spreadosd.rpc;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * One MessagePack-RPC connection: cuts its bytes into messages, runs up to {@code maxCalls} of them at once
 * and sends each answer as soon as it is ready (pipelining, answers matched by msgid).
 *
 * <p>The bytes a connection holds (input not yet cut into messages, requests being served, answers not yet
 * written) stay within {@code budgetBytes}: the socket is read only while one more read still fits. A
 * pipelining client is thereby slowed by TCP back-pressure, never refused. A single message larger than the
 * budget (up to the maximum message size) is still read and served, alone: once nothing else is held, the
 * connection reads on until that message is complete.
 */
final class ConnectionPipeline extends GraphStage<FlowShape<ByteString, ByteString>> {
    /** What the pipeline does with complete messages. */
    interface Calls {
        /**
         * Runs one complete message; an empty answer is sent nowhere (a notification).
         *
         * @throws MsgpackFrames.MalformedStreamException when it is not a request or notification
         */
        CompletionStage<ByteString> run(ByteString message);

        /**
         * The answer to a message refused from its first bytes (too large, too deep, too many values), after which the connection closes.
         *
         * @throws MsgpackFrames.MalformedStreamException when it cannot be answered (no msgid): the connection
         *     closes at once
         */
        ByteString refusal(ByteString head, MsgpackFrames.RefusedException e);

        /** A malformed stream ends the connection; this is its one log line. */
        void closing(MsgpackFrames.MalformedStreamException e);
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
            RpcConnectionStats stats) {
        this.calls = calls;
        this.maxCalls = maxCalls;
        this.maxMessageBytes = maxMessageBytes;
        this.maxDepth = maxDepth;
        this.maxElements = maxElements;
        this.budgetBytes = budgetBytes;
        this.readBytes = readBytes;
        this.stats = stats;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
        return shape;
    }

    /** A call's answer (empty for a notification) or its failure, with the size of the request it answers. */
    private record Done(long requestBytes, ByteString answer, Throwable failure) {}

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new GraphStageLogic(shape) {
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

            private AsyncCallback<Done> finished;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        try {
                            frame(grab(in));
                        } catch (MsgpackFrames.RefusedException e) {
                            refuse(e);
                        } catch (MsgpackFrames.MalformedStreamException e) {
                            calls.closing(e);
                            failStage(e);
                            return;
                        }
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
                    if (!done.answer().isEmpty()) {
                        answers.add(done.answer());
                        answerBytes += done.answer().size();
                    }
                    step();
                });
                stats.opened();
                step();
            }

            @Override
            public void postStop() {
                stats.closed(reported);
            }

            /** Starts what has arrived, sends what is ready, reads while the budget allows, ends when all is done. */
            private void step() {
                startCompleteMessages();
                if (isAvailable(out) && !answers.isEmpty()) {
                    ByteString answer = answers.poll();
                    answerBytes -= answer.size();
                    push(out, answer);
                }
                report();
                if (!isClosed(in) && !hasBeenPulled(in)) {
                    if (mayRead()) {
                        paused = false;
                        pull(in);
                    } else if (!paused && running < maxCalls) {
                        paused = true;
                        stats.paused();
                    }
                }
                if ((isClosed(in) || refused) && ready.isEmpty() && running == 0 && answers.isEmpty()) {
                    completeStage();
                }
            }

            /** Cuts one read into messages: each byte is scanned once, where the message it belongs to left off. */
            private void frame(ByteString chunk) {
                inputBytes += chunk.size();
                ByteBuffer bytes = chunk.asByteBuffer();
                int from = 0;
                while (from < chunk.size()) {
                    int end;
                    try {
                        end = scanner.feed(bytes, from);
                    } catch (MsgpackFrames.MalformedStreamException e) {
                        assembly = assembly.concat(chunk.drop(from));
                        throw e;
                    }
                    if (end < 0) {
                        assembly = assembly.concat(chunk.drop(from));
                        return;
                    }
                    ready.add(assembly.concat(chunk.slice(from, end)).compact());
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
                CompletionStage<ByteString> answer;
                try {
                    answer = calls.run(message);
                } catch (MsgpackFrames.MalformedStreamException e) {
                    calls.closing(e);
                    failStage(e);
                    return;
                }
                running++;
                requestBytes += size;
                answer.whenComplete((a, e) -> finished.invoke(new Done(size, a, e)));
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
