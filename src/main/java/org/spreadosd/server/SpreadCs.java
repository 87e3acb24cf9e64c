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

/**
 * {@code spread-cs}: the config server. It keeps the cluster configuration (a Cluster Singleton over a
 * journal), answers spreadctl on its MessagePack-RPC port, and, unless {@code --mds} names another
 * database, serves the cluster's metadata store from its own embedded H2 database.
 */
@Command(
        name = "spread-cs",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = "Run a SpreadOSD config server (CS).")
public final class SpreadCs implements Callable<Integer> {
    static final int DEFAULT_PORT = 18700;

    @Option(
            names = {"-p", "--port"},
            paramLabel = "PORT",
            description = "MessagePack-RPC port for spreadctl; base of derived ports (default 18700)")
    Integer port;

    @Option(
            names = {"-a", "--address"},
            paramLabel = "HOST",
            description = "host name or address other nodes reach this CS at (default 127.0.0.1)")
    String address;

    @Option(
            names = {"-m", "--mds"},
            paramLabel = "URI",
            description =
                    "metadata store of the cluster: jdbc:postgresql://... (default: an H2 database in <store>/mds served over TCP on port + 1000)")
    String mds;

    @Option(
            names = {"-M", "--mds-cache"},
            paramLabel = "URI",
            description = "metadata cache: local:<entries> or mc:<host:port,...>[;<expire>]")
    String mdsCache;

    @Option(
            names = {"--journal"},
            paramLabel = "URI",
            description = "configuration journal: jdbc:postgresql://... (default: an H2 database in <store>/cs)")
    String journal;

    @Mixin
    ServerOptions options = new ServerOptions();

    public static void main(String[] args) {
        System.exit(ServerMain.run(new SpreadCs(), args));
    }

    @Override
    public Integer call() {
        return ServerMain.runUntilStopped(options, this::config);
    }

    Config config() {
        Map<String, Object> m = new HashMap<>();
        m.put("spreadosd.roles", List.of("cs"));
        m.put("spreadosd.rpc-port", port == null ? DEFAULT_PORT : port);
        m.put("spreadosd.name", "cs");
        ServerOptions.addAddress(m, address);
        ServerOptions.put(m, "mds", mds);
        ServerOptions.put(m, "mds-cache", mdsCache);
        ServerOptions.put(m, "cs.journal", journal);
        return options.toConfig(m, Map.of("spreadosd.store", "./data-cs"));
    }
}
