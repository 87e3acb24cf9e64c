package org.spreadosd.rpc;

/**
 * The MessagePack-RPC connections of one port over JMX ({@code org.spreadosd:type=RpcConnections,port=<port>}):
 * how many are open and the bytes they hold against {@code spreadosd.rpc.max-in-flight-bytes-per-connection}.
 */
public interface RpcConnectionsMXBean {
    int getOpenConnections();

    /** Bytes held by all open connections now: unframed input, requests being served, answers not yet written. */
    long getHeldBytes();

    /** The most one connection has held at any moment since start. */
    long getPeakHeldBytesPerConnection();

    long getMaxInFlightBytesPerConnection();

    /** How often a connection stopped reading its socket because its budget was full (back-pressure). */
    long getBudgetPauses();
}
