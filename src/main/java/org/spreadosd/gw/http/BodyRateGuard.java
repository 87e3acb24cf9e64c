package org.spreadosd.gw.http;

import java.time.Duration;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * Cuts a request body that arrives slower than a minimum rate, so that a stalled or trickling upload cannot hold its
 * connection, its partial file and its buffers for ever. Only the time the server waits for the client counts: a
 * body held back by a slow disk (back-pressure) is never the client's fault. Each window, the bytes received are
 * compared with what the minimum rate gives over the time spent waiting for them; the stream fails with
 * {@link FailureCode#CLIENT_TOO_SLOW} when the server waited at least half the window and got less.
 */
final class BodyRateGuard extends GraphStage<FlowShape<ByteString, ByteString>> {
    static final String MIN_RATE_SETTING = "spreadosd.clients.http.body-min-rate";

    private final long minBytesPerSecond;
    private final Duration window;
    private final Inlet<ByteString> in = Inlet.create("BodyRateGuard.in");
    private final Outlet<ByteString> out = Outlet.create("BodyRateGuard.out");

    /** @param minBytesPerSecond positive; a guard of rate 0 is not built */
    BodyRateGuard(long minBytesPerSecond, Duration window) {
        this.minBytesPerSecond = minBytesPerSecond;
        this.window = window;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
        return FlowShape.of(in, out);
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
        return new TimerGraphStageLogic(shape()) {
            private long bytes;
            private long waitedNanos;
            private long waitingSince = -1;

            {
                setHandler(in, new AbstractInHandler() {
                    @Override
                    public void onPush() {
                        ByteString chunk = grab(in);
                        bytes += chunk.size();
                        stopWaiting();
                        push(out, chunk);
                    }
                });
                setHandler(out, new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                        waitingSince = System.nanoTime();
                        pull(in);
                    }
                });
            }

            @Override
            public void preStart() {
                scheduleWithFixedDelay("rate", window, window);
            }

            private void stopWaiting() {
                if (waitingSince >= 0) {
                    waitedNanos += System.nanoTime() - waitingSince;
                    waitingSince = -1;
                }
            }

            @Override
            public void onTimer(Object key) {
                boolean stillWaiting = waitingSince >= 0;
                stopWaiting();
                double waitedSeconds = waitedNanos / 1e9;
                if (waitedNanos * 2 >= window.toNanos() && bytes < minBytesPerSecond * waitedSeconds) {
                    failStage(new SpreadFailure(
                            FailureCode.CLIENT_TOO_SLOW,
                            "request body too slow: " + bytes + " bytes in " + Math.round(waitedSeconds)
                                    + " s, less than the " + minBytesPerSecond + " bytes per second this server waits"
                                    + " for (" + MIN_RATE_SETTING + "); nothing of it is kept"));
                    return;
                }
                bytes = 0;
                waitedNanos = 0;
                if (stillWaiting) {
                    waitingSince = System.nanoTime();
                }
            }
        };
    }
}
