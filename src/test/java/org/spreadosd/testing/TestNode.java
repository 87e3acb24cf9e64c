package org.spreadosd.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.spreadosd.server.SpreadNode;

/** A standalone node started in the test's JVM, on loopback and free ports, in a directory of the test. */
public final class TestNode implements AutoCloseable {
    private final SpreadNode node;
    private final int httpPort;

    private TestNode(SpreadNode node, int httpPort) {
        this.node = node;
        this.httpPort = httpPort;
    }

    public int rpcPort() {
        return node.settings().rpcPort();
    }

    public static TestNode standalone(Path store) {
        return standalone(store, Map.of());
    }

    public static TestNode standalone(Path store, Map<String, Object> extra) {
        int http = FreePorts.next();
        Map<String, Object> m = new HashMap<>();
        m.put("spreadosd.store", store.toString());
        m.put("spreadosd.listen-host", "127.0.0.1");
        m.put("spreadosd.advertise-host", "127.0.0.1");
        m.put("spreadosd.http-port", http);
        m.put("spreadosd.rpc-port", FreePorts.next());
        m.put("spreadosd.data-port", FreePorts.next());
        m.put("spreadosd.cluster-port", FreePorts.next());
        m.put("spreadosd.management-port", FreePorts.next());
        m.putAll(extra);
        Config config = ConfigFactory.parseMap(m);
        return new TestNode(SpreadNode.start(config), http);
    }

    public URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + httpPort + pathAndQuery);
    }

    public int httpPort() {
        return httpPort;
    }

    public SpreadNode node() {
        return node;
    }

    @Override
    public void close() {
        node.close();
    }
}
