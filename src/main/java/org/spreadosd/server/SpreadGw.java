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

/** {@code spread-gw}: a gateway. It holds nothing durable: it serves clients over HTTP and MessagePack-RPC. */
@Command(
        name = "spread-gw",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = "Run a SpreadOSD gateway (GW); it joins the cluster through its config server.")
public final class SpreadGw implements Callable<Integer> {
    static final int DEFAULT_PORT = 18800;

    @Option(
            names = {"-c", "--cs"},
            paramLabel = "ADDRESS[:PORT]",
            required = true,
            description = "the config server to join (its MessagePack-RPC port, default 18700)")
    String cs;

    @Option(
            names = {"-p", "--port"},
            paramLabel = "PORT",
            description = "MessagePack-RPC port; base of derived ports (default 18800)")
    Integer port;

    @Option(
            names = {"-a", "--address"},
            paramLabel = "HOST",
            description = "host name or address other nodes reach this gateway at (default 127.0.0.1)")
    String address;

    @Mixin
    GatewayOptions gateway = new GatewayOptions();

    @Mixin
    ServerOptions options = new ServerOptions();

    public static void main(String[] args) {
        System.exit(ServerMain.run(new SpreadGw(), args));
    }

    @Override
    public Integer call() {
        return ServerMain.runUntilStopped(options, this::config);
    }

    Config config() {
        Map<String, Object> m = new HashMap<>();
        m.put("spreadosd.roles", List.of("gw"));
        m.put("spreadosd.cs-address", cs);
        m.put("spreadosd.rpc-port", port == null ? DEFAULT_PORT : port);
        m.put("spreadosd.name", "gw");
        ServerOptions.addAddress(m, address);
        gateway.addTo(m);
        return options.toConfig(m, Map.of("spreadosd.store", "./data-gw"));
    }
}
