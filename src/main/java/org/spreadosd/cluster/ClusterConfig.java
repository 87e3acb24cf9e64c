package org.spreadosd.cluster;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The cluster configuration the CS keeps and tells every node: nodes, set weights, FAULT marks and
 * the metadata store (and its cache) every node should use; an empty URI means the node's own default.
 * Immutable; every change makes a new copy with a higher {@code revision}.
 */
public record ClusterConfig(
        long revision,
        List<NodeInfo> nodes,
        Map<Integer, Integer> weights,
        Set<Integer> fault,
        String mdsUri,
        String mdsCacheUri,
        Map<Integer, String> writePolicies)
        implements CborSerializable {
    public static final int DEFAULT_WEIGHT = 10;
    public static final ClusterConfig EMPTY = new ClusterConfig(0, List.of(), Map.of(), Set.of());

    @JsonCreator
    public ClusterConfig {
        nodes = List.copyOf(nodes);
        weights = Map.copyOf(weights);
        fault = Set.copyOf(fault);
        mdsUri = mdsUri == null ? "" : mdsUri;
        mdsCacheUri = mdsCacheUri == null ? "" : mdsCacheUri;
        writePolicies = writePolicies == null ? Map.of() : Map.copyOf(writePolicies);
    }

    public ClusterConfig(
            long revision,
            List<NodeInfo> nodes,
            Map<Integer, Integer> weights,
            Set<Integer> fault,
            String mdsUri,
            String mdsCacheUri) {
        this(revision, nodes, weights, fault, mdsUri, mdsCacheUri, Map.of());
    }

    public ClusterConfig(long revision, List<NodeInfo> nodes, Map<Integer, Integer> weights, Set<Integer> fault) {
        this(revision, nodes, weights, fault, "", "");
    }

    public Optional<NodeInfo> node(int nid) {
        return nodes.stream().filter(n -> n.nid() == nid).findFirst();
    }

    /** Members of a replication-set, in nid order. */
    public List<NodeInfo> members(int rsid) {
        return nodes.stream()
                .filter(n -> n.rsids().contains(rsid))
                .sorted((a, b) -> Integer.compare(a.nid(), b.nid()))
                .toList();
    }

    public Set<Integer> rsids() {
        Set<Integer> out = new TreeSet<>();
        nodes.forEach(n -> out.addAll(n.rsids()));
        return out;
    }

    public int weight(int rsid) {
        return weights.getOrDefault(rsid, DEFAULT_WEIGHT);
    }

    public WritePolicy writePolicy(int rsid) {
        return WritePolicy.parse(writePolicies.get(rsid));
    }

    /** This configuration with the set's write policy replaced; null goes back to the default. */
    public ClusterConfig withWritePolicy(int rsid, String policy) {
        Map<Integer, String> next = new TreeMap<>(writePolicies);
        if (policy == null || WritePolicy.parse(policy).equals(WritePolicy.DEFAULT)) {
            next.remove(rsid);
        } else {
            next.put(rsid, WritePolicy.parse(policy).text());
        }
        return new ClusterConfig(revision + 1, nodes, weights, fault, mdsUri, mdsCacheUri, next);
    }

    public boolean isFault(int nid) {
        return fault.contains(nid);
    }

    /** This configuration with {@code node} added, or replacing the node with the same nid. */
    public ClusterConfig withNode(NodeInfo node) {
        List<NodeInfo> next = new ArrayList<>(
                nodes.stream().filter(n -> n.nid() != node.nid()).toList());
        next.add(node);
        next.sort((a, b) -> Integer.compare(a.nid(), b.nid()));
        Set<Integer> nextFault = new TreeSet<>(fault);
        nextFault.remove(node.nid());
        return new ClusterConfig(revision + 1, next, weights, nextFault, mdsUri, mdsCacheUri, writePolicies);
    }

    /** This configuration without the node (and without its FAULT mark). */
    public ClusterConfig withoutNode(int nid) {
        Set<Integer> nextFault = new TreeSet<>(fault);
        nextFault.remove(nid);
        return new ClusterConfig(
                revision + 1,
                nodes.stream().filter(n -> n.nid() != nid).toList(),
                weights,
                nextFault,
                mdsUri,
                mdsCacheUri,
                writePolicies);
    }

    public ClusterConfig withFault(int nid, boolean isFault) {
        Set<Integer> nextFault = new TreeSet<>(fault);
        if (isFault) {
            nextFault.add(nid);
        } else {
            nextFault.remove(nid);
        }
        return new ClusterConfig(revision + 1, nodes, weights, nextFault, mdsUri, mdsCacheUri, writePolicies);
    }

    public ClusterConfig withMds(String uri, String cacheUri) {
        return new ClusterConfig(revision + 1, nodes, weights, fault, uri, cacheUri, writePolicies);
    }

    public ClusterConfig withWeight(int rsid, Integer weight) {
        Map<Integer, Integer> next = new TreeMap<>(weights);
        if (weight == null) {
            next.remove(rsid);
        } else {
            next.put(rsid, weight);
        }
        return new ClusterConfig(revision + 1, nodes, next, fault, mdsUri, mdsCacheUri, writePolicies);
    }
}
