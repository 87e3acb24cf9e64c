package org.spreadosd.rpc;

import org.apache.pekko.util.ByteString;
import org.spreadosd.edge.BudgetReservation;

/**
 * A result's raw bytes (a version's data) as they arrived, held under a reservation taken from the node's buffer
 * budget before they were read. {@link RpcWriter} writes them into the answer without copying them (a header, then
 * these bytes concatenated), and the reservation passes to the connection that sends the answer.
 */
public record ReservedBytes(ByteString bytes, BudgetReservation reservation) {}
