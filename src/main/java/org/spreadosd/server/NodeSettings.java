package org.spreadosd.server;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.gw.GatewayMode;
import org.spreadosd.model.Limits;
import org.spreadosd.util.Supervised;

/** The {@code spreadosd} section of the configuration, checked and with derived values filled in. */
public record NodeSettings(
        Path store,
        Path ulog,
        Set<String> roles,
        String listenHost,
        String advertiseHost,
        int rpcPort,
        int httpPort,
        int dataPort,
        int clusterPort,
        int managementPort,
        List<String> seedNodes,
        int nid,
        String name,
        List<Integer> rsids,
        String location,
        String mds,
        int mdsPoolSize,
        int mdsThreads,
        GatewayMode mode,
        Duration startupTimeout,
        String errorPage,
        long maxFormBytes,
        Limits limits,
        long maxObjectBytes,
        Duration uploadIdleTimeout,
        Duration gcInterval,
        Duration gcPendingGrace,
        long maxRpcMessageBytes,
        long maxRpcInFlightBytesPerConnection,
        String csAddress,
        String mdsCache,
        Duration faultGrace,
        String csJournal,
        ReplicationSettings replication,
        Supervised.Backoff restartBackoff) {
    /** The config server's MessagePack-RPC port when {@code --cs} names none. */
    public static final int DEFAULT_CS_PORT = 18700;
    /** The cluster port of a node is its base port + this (see reference.conf). */
    static final int CLUSTER_PORT_OFFSET = 2000;
    /** The threads of the metadata store's dispatcher, under {@code spreadosd}; -1 there means mds-pool-size. */
    static final String MDS_THREADS = "mds-dispatcher.thread-pool-executor.fixed-pool-size";

    public static NodeSettings from(Config root) {
        Config c = root.getConfig("spreadosd");
        int rpcPort = c.getInt("rpc-port");
        String advertise = c.getString("advertise-host");
        int nid = c.getInt("nid");
        String name = c.getString("name").isEmpty() ? "ds" + nid : c.getString("name");
        String location =
                c.getString("location").isEmpty() ? NodeInfo.defaultLocation(advertise) : c.getString("location");
        long snapshotTime = c.getLong("read-only-time");
        String snapshotName = c.getString("read-only-name");
        GatewayMode mode = new GatewayMode(
                c.getBoolean("read-only"),
                snapshotTime >= 0 ? snapshotTime : null,
                snapshotName.isEmpty() ? null : snapshotName.getBytes(StandardCharsets.UTF_8));
        return new NodeSettings(
                Path.of(c.getString("store")).toAbsolutePath().normalize(),
                c.getString("ds.ulog").isEmpty()
                        ? null
                        : Path.of(c.getString("ds.ulog")).toAbsolutePath().normalize(),
                Set.copyOf(c.getStringList("roles")),
                c.getString("listen-host"),
                advertise,
                rpcPort,
                c.getInt("http-port"),
                derived(c.getInt("data-port"), rpcPort + 1000),
                derived(c.getInt("cluster-port"), rpcPort + CLUSTER_PORT_OFFSET),
                derived(c.getInt("management-port"), rpcPort + 3000),
                seedNodes(c),
                nid,
                name,
                c.getIntList("rsids"),
                location,
                c.getString("mds"),
                c.getInt("mds-pool-size"),
                c.getInt(MDS_THREADS) > 0 ? c.getInt(MDS_THREADS) : c.getInt("mds-pool-size"),
                mode,
                c.getDuration("startup-timeout"),
                c.getString("http.error-page"),
                c.getBytes("http.max-form-size"),
                limits(c),
                c.getBytes("ds.max-object-size"),
                c.getDuration("ds.upload-idle-timeout"),
                c.getDuration("gc.interval"),
                c.getDuration("gc.pending-grace"),
                c.getBytes("rpc.max-message-size"),
                c.getBytes("rpc.max-in-flight-bytes-per-connection"),
                c.getString("cs-address"),
                c.getString("mds-cache"),
                c.getDuration("cs.fault-grace"),
                c.getString("cs.journal"),
                ReplicationSettings.from(c.getConfig("ds")),
                Supervised.Backoff.from(c.getConfig("actor-restart")));
    }

    private static Limits limits(Config c) {
        try {
            return Limits.from(c.getConfig("limits"));
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage());
        }
    }

    /** Explicit seed nodes, else the config server's cluster port (its RPC port + 2000), else none (join itself). */
    private static List<String> seedNodes(Config c) {
        List<String> explicit = c.getStringList("seed-nodes");
        String cs = c.getString("cs-address");
        if (!explicit.isEmpty() || cs.isEmpty()) {
            return explicit;
        }
        return List.of(csHost(cs) + ":" + (csPort(cs) + CLUSTER_PORT_OFFSET));
    }

    static String csHost(String csAddress) {
        return csAddress.split(":", 2)[0];
    }

    static int csPort(String csAddress) {
        String[] hp = csAddress.split(":", 2);
        return hp.length == 2 ? ServerOptions.port(hp[1]) : DEFAULT_CS_PORT;
    }

    private static int derived(int configured, int fallback) {
        return configured >= 0 ? configured : fallback;
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }

    public String dataUrl() {
        return "http://" + advertiseHost + ":" + dataPort;
    }

    public String httpUrl() {
        return httpPort > 0 ? "http://" + advertiseHost + ":" + httpPort : null;
    }

    public NodeInfo nodeInfo() {
        return new NodeInfo(
                nid, name, advertiseHost + ":" + rpcPort, rsids, location, dataUrl(), httpUrl(), clusterAddress());
    }

    /** {@code host:port} of this node's cluster member, as other members see it. */
    public String clusterAddress() {
        return advertiseHost + ":" + clusterPort;
    }
}
