package org.spreadosd.cluster;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.util.List;

/**
 * A data server as the configuration knows it.
 *
 * @param address the advertised MessagePack-RPC address, {@code host:port}
 * @param dataUrl base URL of its node-to-node byte stream endpoint
 * @param httpUrl base URL of its public HTTP API, or null when it has none; {@code /direct} URLs point here
 * @param clusterAddress {@code host:port} of its Pekko cluster member, which tells whether it is reachable;
 *     null for a node registered before the field existed (then it counts as reachable)
 */
public record NodeInfo(
        int nid,
        String name,
        String address,
        List<Integer> rsids,
        String location,
        String dataUrl,
        String httpUrl,
        String clusterAddress)
        implements CborSerializable {

    @JsonCreator
    public NodeInfo {
        rsids = List.copyOf(rsids);
    }

    public NodeInfo(
            int nid,
            String name,
            String address,
            List<Integer> rsids,
            String location,
            String dataUrl,
            String httpUrl) {
        this(nid, name, address, rsids, location, dataUrl, httpUrl, null);
    }

    /** The original's default location: the first three octets of the address, zero-padded. */
    public static String defaultLocation(String host) {
        String[] parts = host.split("\\.");
        if (parts.length == 4 && host.matches("[0-9.]+")) {
            return String.format(
                    "subnet-%03d.%03d.%03d",
                    Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]));
        }
        return "host-" + host;
    }
}
