package org.spreadosd.testing;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Wraps a real behavior so that the first message it handles throws, as a bug in the actor would: for actors
 * whose dependencies cannot fail on their own. Production protocols are untouched.
 */
public final class FailOnce {
    private FailOnce() {}

    public static <T> Behavior<T> onFirstMessage(Behavior<T> behavior, AtomicBoolean failed) {
        return Behaviors.intercept(() -> new Interceptor<T>(failed), behavior);
    }

    private static final class Interceptor<T> extends BehaviorInterceptor<T, T> {
        private final AtomicBoolean failed;

        @SuppressWarnings("unchecked")
        Interceptor(AtomicBoolean failed) {
            super((Class<T>) (Class<?>) Object.class);
            this.failed = failed;
        }

        @Override
        public Behavior<T> aroundReceive(TypedActorContext<T> ctx, T msg, ReceiveTarget<T> target) {
            if (failed.compareAndSet(false, true)) {
                throw new IllegalStateException(
                        "injected failure on " + msg.getClass().getSimpleName());
            }
            return target.apply(ctx, msg);
        }
    }
}
