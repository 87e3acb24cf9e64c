package org.spreadosd.cluster;

/**
 * Marks messages that cross the network between cluster nodes; bound to Jackson CBOR in
 * reference.conf. Such messages carry control data only: object bytes travel as streams.
 */
public interface CborSerializable {}
