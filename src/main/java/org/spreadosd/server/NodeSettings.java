package org.spreadosd.server;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.gw.GatewayMode;

/** The {@code spreadosd} section of the configuration, checked and with derived values filled in. */
public record NodeSettings(
        Path store,
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
        GatewayMode mode,
        Duration startupTimeout,
        String errorPage,
        long maxFormBytes,
        int maxKeyBytes,
        long maxObjectBytes,
        Duration uploadIdleTimeout,
        Duration gcInterval,
        Duration gcPendingGrace,
        long maxRpcMessageBytes) {

    public static NodeSettings from(Config root) {
        Config c = root.getConfig("spreadosd");
        int rpcPort = c.getInt("rpc-port");
        String advertise = c.getString("advertise-host");
        int nid = c.getInt("nid");
        String name = c.getString("name").isEmpty() ? "ds" + nid : c.getString("name");
        String location = c.getString("location").isEmpty() ? NodeInfo.defaultLocation(advertise) : c.getString("location");
        long snapshotTime = c.getLong("read-only-time");
        String snapshotName = c.getString("read-only-name");
        GatewayMode mode = new GatewayMode(c.getBoolean("read-only"), snapshotTime >= 0 ? snapshotTime : null,
                snapshotName.isEmpty() ? null : snapshotName.getBytes(StandardCharsets.UTF_8));
        return new NodeSettings(
                Path.of(c.getString("store")).toAbsolutePath().normalize(),
                Set.copyOf(c.getStringList("roles")),
                c.getString("listen-host"),
                advertise,
                rpcPort,
                c.getInt("http-port"),
                derived(c.getInt("data-port"), rpcPort + 1000),
                derived(c.getInt("cluster-port"), rpcPort + 2000),
                derived(c.getInt("management-port"), rpcPort + 3000),
                c.getStringList("seed-nodes"),
                nid,
                name,
                c.getIntList("rsids"),
                location,
                c.getString("mds"),
                c.getInt("mds-pool-size"),
                mode,
                c.getDuration("startup-timeout"),
                c.getString("http.error-page"),
                c.getBytes("http.max-form-size"),
                c.getInt("http.max-key-bytes"),
                c.getBytes("ds.max-object-size"),
                c.getDuration("ds.upload-idle-timeout"),
                c.getDuration("gc.interval"),
                c.getDuration("gc.pending-grace"),
                c.getBytes("rpc.max-message-size"));
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
        return new NodeInfo(nid, name, advertiseHost + ":" + rpcPort, rsids, location, dataUrl(), httpUrl());
    }
}
