package org.spreadosd.util;

import com.typesafe.config.Config;
import java.time.Duration;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Long-lived actors restart after a failure instead of stopping for good: one exception would otherwise end,
 * say, the replication of a set without a trace. Restarts back off (so a failure that repeats at once does not
 * spin), and each logs one line naming the actor, the failure and where it was thrown; Pekko's own report,
 * a stack trace per restart, is turned off.
 */
public final class Supervised {
    private static final Logger log = LoggerFactory.getLogger(Supervised.class);

    /** The {@code spreadosd.actor-restart} settings (see reference.conf). */
    public record Backoff(Duration minBackoff, Duration maxBackoff, double randomFactor) {
        public static Backoff from(Config restart) {
            Backoff b = new Backoff(
                    restart.getDuration("min-backoff"),
                    restart.getDuration("max-backoff"),
                    restart.getDouble("random-factor"));
            if (b.minBackoff.isNegative()
                    || b.maxBackoff.compareTo(b.minBackoff) < 0
                    || b.randomFactor < 0
                    || b.randomFactor > 1) {
                throw new IllegalArgumentException(
                        "spreadosd.actor-restart: need 0 <= min-backoff <= max-backoff and random-factor in 0..1");
            }
            return b;
        }
    }

    private Supervised() {}

    /** {@code behavior}, restarted with backoff whenever it throws (in its setup too). */
    public static <T> Behavior<T> restarting(Behavior<T> behavior, Backoff backoff) {
        return Behaviors.supervise(Behaviors.intercept(() -> new FailureLine<T>(backoff), behavior))
                .onFailure(SupervisorStrategy.restartWithBackoff(
                                backoff.minBackoff(), backoff.maxBackoff(), backoff.randomFactor())
                        .withLoggingEnabled(false));
    }

    /** Logs the one line of a failure on its way to the supervisor. */
    private static final class FailureLine<T> extends BehaviorInterceptor<T, T> {
        private final Backoff backoff;

        @SuppressWarnings("unchecked")
        FailureLine(Backoff backoff) {
            super((Class<T>) (Class<?>) Object.class);
            this.backoff = backoff;
        }

        @Override
        public Behavior<T> aroundStart(TypedActorContext<T> ctx, PreStartTarget<T> target) {
            try {
                return target.start(ctx);
            } catch (RuntimeException e) {
                report(ctx, e, "starting");
                throw e;
            }
        }

        @Override
        public Behavior<T> aroundReceive(TypedActorContext<T> ctx, T msg, ReceiveTarget<T> target) {
            try {
                return target.apply(ctx, msg);
            } catch (RuntimeException e) {
                report(ctx, e, "handling " + msg.getClass().getSimpleName());
                throw e;
            }
        }

        private void report(TypedActorContext<T> ctx, RuntimeException e, String doing) {
            StackTraceElement[] trace = e.getStackTrace();
            log.warn(
                    "actor {} failed {}: {} at {}; restarting it in {} ms (up to {} ms for failures in a row)",
                    ctx.asJava().getSelf().path().name(),
                    doing,
                    e,
                    trace.length == 0 ? "?" : trace[0],
                    backoff.minBackoff().toMillis(),
                    backoff.maxBackoff().toMillis());
        }
    }
}
