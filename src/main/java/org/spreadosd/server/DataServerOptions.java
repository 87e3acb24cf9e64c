package org.spreadosd.server;

import java.util.Map;
import picocli.CommandLine.Option;

/** Options that describe a data server (spread-ds, spread-standalone): its identity, address and replication-sets. */
public class DataServerOptions {
    @Option(
            names = {"-i", "--nid"},
            paramLabel = "ID",
            description = "node id, a unique integer (default 0)")
    Integer nid;

    @Option(
            names = {"-n", "--name"},
            paramLabel = "NAME",
            description = "node name (default ds<nid>)")
    String name;

    @Option(
            names = {"-a", "--address"},
            paramLabel = "HOST[:PORT]",
            description =
                    "address advertised to clients and other nodes; PORT is the MessagePack-RPC port (default 127.0.0.1:18900)")
    String address;

    @Option(
            names = {"-g", "--rsid"},
            paramLabel = "IDs",
            description = "replication-set ids, comma separated (default 0)")
    String rsids;

    @Option(
            names = {"-u", "--ulog"},
            paramLabel = "PATH",
            description = "directory of the update logs and replication positions (default <store>/ulog)")
    String ulog;

    void addTo(Map<String, Object> m) {
        ServerOptions.put(m, "ds.ulog", ulog);
        ServerOptions.put(m, "nid", nid);
        ServerOptions.put(m, "name", name);
        ServerOptions.addAddress(m, address);
        if (rsids != null) {
            m.put("spreadosd.rsids", ServerOptions.intList(rsids));
        }
    }
}
