package org.spreadosd.server;

import com.typesafe.config.Config;
import java.time.Duration;
import org.spreadosd.ds.replication.SetReplicator;

/** The {@code spreadosd.ds.replication} section and the read check of data servers (see reference.conf). */
public record ReplicationSettings(
        Duration pollInterval,
        int batch,
        int parallelism,
        Duration antiEntropyInterval,
        Duration scrubInterval,
        long scrubBytesPerSecond,
        long verifyBeforeSendBytes) {

    static ReplicationSettings from(Config ds) {
        Config r = ds.getConfig("replication");
        ReplicationSettings s = new ReplicationSettings(
                r.getDuration("poll-interval"),
                r.getInt("batch"),
                r.getInt("parallelism"),
                r.getDuration("anti-entropy-interval"),
                r.getDuration("scrub-interval"),
                r.getBytes("scrub-rate"),
                ds.getBytes("verify-before-send"));
        if (s.batch < 1 || s.batch > 1000 || s.parallelism < 1 || s.scrubBytesPerSecond < 1) {
            throw new IllegalArgumentException(
                    "spreadosd.ds.replication: batch must be 1..1000, parallelism and scrub-rate >= 1");
        }
        return s;
    }

    public SetReplicator.Settings forReplicator() {
        return new SetReplicator.Settings(pollInterval, antiEntropyInterval, batch, parallelism);
    }
}
