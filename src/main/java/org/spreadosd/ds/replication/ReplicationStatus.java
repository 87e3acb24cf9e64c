package org.spreadosd.ds.replication;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * What replication is doing on this DS, for {@code stat replication}, {@code spreadctl nodes} and metrics:
 * per set and peer how far behind this member is, and what the scrub and anti-entropy found and repaired.
 */
public final class ReplicationStatus implements ReplicationMXBean {
    public static final String MBEAN_NAME = "org.spreadosd:type=Replication";

    /** How this member stands against one peer's log. */
    public record PeerSync(
            String state,
            long versionsBehind,
            long bytesBehind,
            long copiedVersions,
            long copiedBytes,
            int percent,
            String lastError) {
        public static final String BOOTSTRAPPING = "bootstrapping";
        public static final String CATCHING_UP = "catching-up";
        public static final String IN_SYNC = "in-sync";
        public static final String UNREACHABLE = "unreachable";

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("state", state);
            m.put("versions_behind", versionsBehind);
            m.put("bytes_behind", bytesBehind);
            m.put("copied_versions", copiedVersions);
            m.put("copied_bytes", copiedBytes);
            if (state.equals(BOOTSTRAPPING)) {
                m.put("percent", (long) percent);
            }
            if (lastError != null) {
                m.put("error", lastError);
            }
            return m;
        }
    }

    private final ConcurrentMap<Integer, ConcurrentMap<Integer, PeerSync>> peers = new ConcurrentHashMap<>();
    final AtomicLong scrubChecked = new AtomicLong();
    final AtomicLong scrubDamaged = new AtomicLong();
    final AtomicLong repaired = new AtomicLong();
    final AtomicLong garbageRemoved = new AtomicLong();
    final AtomicLong scrubPasses = new AtomicLong();
    final AtomicLong antiEntropyRounds = new AtomicLong();
    final AtomicLong antiEntropyCopied = new AtomicLong();
    final AtomicLong antiEntropyDeleted = new AtomicLong();

    void set(int rsid, int peerNid, PeerSync sync) {
        peers.computeIfAbsent(rsid, r -> new ConcurrentHashMap<>()).put(peerNid, sync);
    }

    PeerSync get(int rsid, int peerNid) {
        return peers.getOrDefault(rsid, new ConcurrentHashMap<>()).get(peerNid);
    }

    void forget(int rsid, int peerNid) {
        peers.getOrDefault(rsid, new ConcurrentHashMap<>()).remove(peerNid);
    }

    /** Versions this member still has to copy, over all sets and peers (the largest lag per set counts). */
    public long versionsBehind() {
        return peers.values().stream()
                .mapToLong(m -> m.values().stream()
                        .mapToLong(PeerSync::versionsBehind)
                        .max()
                        .orElse(0))
                .sum();
    }

    public long bytesBehind() {
        return peers.values().stream()
                .mapToLong(m -> m.values().stream()
                        .mapToLong(PeerSync::bytesBehind)
                        .max()
                        .orElse(0))
                .sum();
    }

    /** One word for the whole node: bootstrapping (with percent), catching-up, or in-sync. */
    public String summary() {
        int lowest = 100;
        boolean bootstrapping = false;
        boolean behind = false;
        for (var sets : peers.values()) {
            for (PeerSync p : sets.values()) {
                if (p.state().equals(PeerSync.BOOTSTRAPPING)) {
                    bootstrapping = true;
                    lowest = Math.min(lowest, p.percent());
                } else if (p.state().equals(PeerSync.CATCHING_UP)) {
                    behind = true;
                }
            }
        }
        if (bootstrapping) {
            return PeerSync.BOOTSTRAPPING + " " + lowest + "%";
        }
        return behind ? PeerSync.CATCHING_UP + " " + versionsBehind() : PeerSync.IN_SYNC;
    }

    /** Makes these figures readable over JMX; a second registration in one JVM (tests) replaces the first. */
    public void registerMBean() {
        try {
            var server = ManagementFactory.getPlatformMBeanServer();
            var name = new ObjectName(MBEAN_NAME);
            if (server.isRegistered(name)) {
                server.unregisterMBean(name);
            }
            server.registerMBean(this, name);
        } catch (JMException e) {
            throw new IllegalStateException("cannot register " + MBEAN_NAME, e);
        }
    }

    @Override
    public String getState() {
        return summary();
    }

    @Override
    public long getVersionsBehind() {
        return versionsBehind();
    }

    @Override
    public long getBytesBehind() {
        return bytesBehind();
    }

    @Override
    public long getScrubPasses() {
        return scrubPasses.get();
    }

    @Override
    public long getScrubChecked() {
        return scrubChecked.get();
    }

    @Override
    public long getScrubDamaged() {
        return scrubDamaged.get();
    }

    @Override
    public long getRepaired() {
        return repaired.get();
    }

    @Override
    public long getGarbageRemoved() {
        return garbageRemoved.get();
    }

    @Override
    public long getAntiEntropyRounds() {
        return antiEntropyRounds.get();
    }

    @Override
    public long getAntiEntropyCopied() {
        return antiEntropyCopied.get();
    }

    /** The {@code stat replication} answer: state, per set and peer progress, scrub and anti-entropy counters. */
    public Map<String, Object> toMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("state", summary());
        out.put("versions_behind", versionsBehind());
        out.put("bytes_behind", bytesBehind());
        // Keys are strings (rsid, then the peer's nid), so the map reads the same as msgpack and as JSON.
        Map<Object, Object> sets = new TreeMap<>();
        peers.forEach((rsid, m) -> {
            Map<Object, Object> byPeer = new TreeMap<>();
            m.forEach((nid, sync) -> byPeer.put(String.valueOf(nid), sync.toMap()));
            sets.put(String.valueOf(rsid), byPeer);
        });
        out.put("sets", sets);
        out.put("scrub_passes", scrubPasses.get());
        out.put("scrub_checked", scrubChecked.get());
        out.put("scrub_damaged", scrubDamaged.get());
        out.put("repaired", repaired.get());
        out.put("garbage_removed", garbageRemoved.get());
        out.put("anti_entropy_rounds", antiEntropyRounds.get());
        out.put("anti_entropy_copied", antiEntropyCopied.get());
        out.put("anti_entropy_deleted", antiEntropyDeleted.get());
        return out;
    }
}
