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

/** {@code spread-ds}: a data server. It stores the versions of its replication-sets and is also a gateway. */
@Command(
        name = "spread-ds",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = "Run a SpreadOSD data server (DS); it joins the cluster through its config server.")
public final class SpreadDs implements Callable<Integer> {
    @Option(
            names = {"-c", "--cs"},
            paramLabel = "ADDRESS[:PORT]",
            required = true,
            description = "the config server to join (its MessagePack-RPC port, default 18700)")
    String cs;

    @Mixin
    DataServerOptions node = new DataServerOptions();

    @Mixin
    GatewayOptions gateway = new GatewayOptions();

    @Mixin
    ServerOptions options = new ServerOptions();

    public static void main(String[] args) {
        System.exit(ServerMain.run(new SpreadDs(), args));
    }

    @Override
    public Integer call() {
        return ServerMain.runUntilStopped(options, this::config);
    }

    Config config() {
        Map<String, Object> m = new HashMap<>();
        m.put("spreadosd.roles", List.of("ds", "gw"));
        m.put("spreadosd.cs-address", cs);
        node.addTo(m);
        gateway.addTo(m);
        return options.toConfig(m, Map.of("spreadosd.store", "./data-ds" + (node.nid == null ? 0 : node.nid)));
    }
}
