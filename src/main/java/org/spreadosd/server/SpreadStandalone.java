package org.spreadosd.server;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code spread-standalone}: one process that is CS, MDS, DS and GW at once, on an embedded metadata store. */
@Command(name = "spread-standalone", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Run SpreadOSD in one process: config server, metadata store, data server and gateway.")
public final class SpreadStandalone implements Callable<Integer> {
    @Mixin
    ServerOptions options = new ServerOptions();

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "MessagePack-RPC port; base of derived ports (default 18900)")
    Integer port;

    @Option(names = {"-i", "--nid"}, paramLabel = "ID", description = "node id (default 0)")
    Integer nid;

    @Option(names = {"-n", "--name"}, paramLabel = "NAME", description = "node name (default ds<nid>)")
    String name;

    @Option(names = {"-a", "--address"}, paramLabel = "HOST[:PORT]", description = "address advertised to clients (default 127.0.0.1)")
    String address;

    @Option(names = {"-g", "--rsid"}, paramLabel = "IDs", description = "replication-set ids, comma separated (default 0)")
    String rsids;

    @Option(names = {"-m", "--mds"}, paramLabel = "URI", description = "metadata store: H2 directory or JDBC URL (default <store>/mds)")
    String mds;

    public static void main(String[] args) {
        System.exit(ServerMain.run(new SpreadStandalone(), args));
    }

    @Override
    public Integer call() {
        return ServerMain.runUntilStopped(options, this::config);
    }

    /** The settings the command line gives, over the --config file (reference.conf is the last fallback). */
    com.typesafe.config.Config config() {
        Map<String, Object> m = new HashMap<>();
        m.put("spreadosd.roles", List.of("cs", "ds", "gw"));
        ServerOptions.put(m, "rpc-port", port);
        ServerOptions.put(m, "nid", nid);
        ServerOptions.put(m, "name", name);
        ServerOptions.put(m, "mds", mds);
        if (address != null) {
            String[] hp = address.split(":", 2);
            m.put("spreadosd.advertise-host", hp[0]);
            if (hp.length == 2) {
                m.put("spreadosd.rpc-port", Integer.parseInt(hp[1]));
            }
        }
        if (rsids != null) {
            m.put("spreadosd.rsids", ServerOptions.intList(rsids));
        }
        return options.toConfig(m);
    }
}
