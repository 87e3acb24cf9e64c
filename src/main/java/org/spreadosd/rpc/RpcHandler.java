package org.spreadosd.rpc;

import java.util.List;
import java.util.concurrent.CompletionStage;
import org.msgpack.value.Value;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * The methods one MessagePack-RPC port serves: a gateway's object methods, a config server's admin
 * methods, or both on a standalone node. A call the handler cannot run as asked fails with
 * a {@link SpreadFailure} ({@link FailureCode#BAD_REQUEST}), which is answered as an error string.
 */
public interface RpcHandler {
    CompletionStage<Object> call(String method, List<Value> params);

    /** Whether this handler serves {@code method}; used to put two handlers on one port. */
    boolean serves(String method);

    /** {@code first} for its own methods, {@code second} for the rest (a standalone serves both sets). */
    static RpcHandler both(RpcHandler first, RpcHandler second) {
        return new RpcHandler() {
            @Override
            public CompletionStage<Object> call(String method, List<Value> params) {
                return first.serves(method) ? first.call(method, params) : second.call(method, params);
            }

            @Override
            public boolean serves(String method) {
                return first.serves(method) || second.serves(method);
            }
        };
    }
}
