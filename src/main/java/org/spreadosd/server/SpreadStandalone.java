package org.spreadosd.server;

import com.typesafe.config.Config;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.spreadosd.util.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code spread-standalone}: one process that is CS, MDS, DS and GW at once, on an embedded metadata store. */
@Command(
        name = "spread-standalone",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = "Run SpreadOSD in one process: config server, metadata store, data server and gateway.")
public final class SpreadStandalone implements Callable<Integer> {
    @Option(
            names = {"-p", "--port"},
            paramLabel = "PORT",
            description = "MessagePack-RPC port; base of derived ports (default 18900)")
    Integer port;

    @Option(
            names = {"-m", "--mds"},
            paramLabel = "URI",
            description = "metadata store: H2 directory or JDBC URL (default <store>/mds)")
    String mds;

    @Mixin
    DataServerOptions node = new DataServerOptions();

    @Mixin
    GatewayOptions gateway = new GatewayOptions();

    @Mixin
    ServerOptions options = new ServerOptions();

    public static void main(String[] args) {
        System.exit(ServerMain.run(new SpreadStandalone(), args));
    }

    @Override
    public Integer call() {
        return ServerMain.runUntilStopped(options, this::config);
    }

    /** The settings the command line gives, over the --config file (reference.conf is the last fallback). */
    Config config() {
        Map<String, Object> m = new HashMap<>();
        m.put("spreadosd.roles", List.of("cs", "ds", "gw"));
        ServerOptions.put(m, "rpc-port", port);
        ServerOptions.put(m, "mds", mds);
        node.addTo(m);
        gateway.addTo(m);
        return options.toConfig(m);
    }
}
