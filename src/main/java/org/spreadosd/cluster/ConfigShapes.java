package org.spreadosd.cluster;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The cluster configuration in the shapes the original {@code stat} answers had, for gateways and the config server alike. */
public final class ConfigShapes {
    private ConfigShapes() {}

    /** {@code [nid, address, name, rsids, location]} per node. */
    public static Object nodes(ClusterConfig config) {
        return config.nodes().stream()
                .map(n -> (Object) List.of(
                        (long) n.nid(),
                        n.address(),
                        n.name(),
                        n.rsids().stream().map(Integer::longValue).toList(),
                        n.location()))
                .toList();
    }

    /** The nids now marked FAULT, ascending. */
    public static Object fault(ClusterConfig config) {
        return config.fault().stream().map(Integer::longValue).sorted().toList();
    }

    /** rsid -> {@code [nids, weight, write policy]} (the original had the first two). */
    public static Object replsets(ClusterConfig config) {
        Map<Object, Object> sets = new TreeMap<>();
        for (int rsid : config.rsids()) {
            sets.put(
                    (long) rsid,
                    List.of(
                            config.members(rsid).stream()
                                    .map(n -> (long) n.nid())
                                    .toList(),
                            (long) config.weight(rsid),
                            config.writePolicy(rsid).text()));
        }
        return sets;
    }
}
