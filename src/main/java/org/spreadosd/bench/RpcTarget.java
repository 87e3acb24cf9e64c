package org.spreadosd.bench;

import java.io.IOException;

/** {@code add_data} and {@code get_data} over MessagePack-RPC, one connection per worker. */
final class RpcTarget implements Target {
    private final String host;
    private final int port;
    private final int timeoutMillis;

    RpcTarget(String host, int port, int timeoutMillis) {
        this.host = host;
        this.port = port;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public String describe() {
        return "rpc " + host + ":" + port;
    }

    @Override
    public Connection open() {
        return new Connection() {
            private StreamingRpcClient client;

            @Override
            public void put(String key, ObjectContent content) throws IOException {
                OperationFailed.as("add_data " + key, () -> client().addData(key, content));
            }

            @Override
            public void getAndVerify(String key, ObjectContent expected) throws IOException {
                OperationFailed.as("get_data " + key, () -> {
                    ContentVerifier verifier = expected.verifier();
                    client().getData(key, verifier);
                    verifier.finish();
                });
            }

            /** The worker's client, a new one after a call that broke the last one off mid-message. */
            private StreamingRpcClient client() throws IOException {
                if (client != null && !client.reusable()) {
                    close();
                }
                if (client == null) {
                    client = new StreamingRpcClient(host, port, timeoutMillis);
                }
                return client;
            }

            @Override
            public void close() {
                if (client != null) {
                    try {
                        client.close();
                    } catch (IOException ignored) {
                        // nothing more is read from it
                    }
                    client = null;
                }
            }
        };
    }
}
