package org.spreadosd.ds.replication;

/**
 * Replication figures of a data server over JMX ({@code org.spreadosd:type=Replication}), for monitoring
 * that reads MBeans (jconsole, a JMX exporter): the same figures as {@code stat replication}.
 */
public interface ReplicationMXBean {
    String getState();

    long getVersionsBehind();

    long getBytesBehind();

    long getScrubPasses();

    long getScrubChecked();

    long getScrubDamaged();

    long getRepaired();

    long getGarbageRemoved();

    long getAntiEntropyRounds();

    long getAntiEntropyCopied();
}
