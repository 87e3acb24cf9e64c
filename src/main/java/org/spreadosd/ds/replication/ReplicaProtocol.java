package org.spreadosd.ds.replication;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.spreadosd.ds.Inventory;
import org.spreadosd.ds.UpdateLog;

/**
 * What members of a replication-set ask each other, over the DS's node-to-node HTTP port (beside the
 * byte stream API), as small JSON documents; bytes themselves always travel through the blob stream API.
 * <ul>
 *   <li>{@code GET /_spread/v1/log/<rsid>?log=<id>&from=<offset>&max=<n>}: update log entries ({@link LogBatch});
 *       a position in another log (the peer's log was created anew) reads from the start</li>
 *   <li>{@code GET /_spread/v1/inventory/<rsid>?after=<name>&max=<n>}: what the member holds ({@link InventoryPage})</li>
 *   <li>{@code GET /_spread/v1/digest/<rsid>}: a digest per bucket of the inventory ({@link Digests})</li>
 *   <li>{@code GET /_spread/v1/bucket/<rsid>/<bucket>}: one bucket's items ({@link InventoryPage})</li>
 * </ul>
 */
public final class ReplicaProtocol {
    public static final String LOG = "/_spread/v1/log/";
    public static final String INVENTORY = "/_spread/v1/inventory/";
    public static final String DIGEST = "/_spread/v1/digest/";
    public static final String BUCKET = "/_spread/v1/bucket/";

    static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ReplicaProtocol() {}

    /** A position in a member's update log, and what was logged up to it. */
    public record Position(String logId, long offset, long seq, long bytes) {
        static Position of(UpdateLog.Tail t) {
            return new Position(t.logId().toString(), t.offset(), t.seq(), t.cumulativeBytes());
        }
    }

    public record LogRecord(
            String op, long seq, long vtime, byte[] key, long size, int crc32c, long cumulativeBytes, long next) {
        static LogRecord of(UpdateLog.Entry e) {
            return new LogRecord(
                    e.op().name(), e.seq(), e.vtime(), e.key(), e.size(), e.blobCrc(), e.cumulativeBytes(), e.next());
        }

        boolean isDelete() {
            return op.equals(UpdateLog.Op.DELETE.name());
        }
    }

    /** Entries read from {@code from} in the log {@code tail.logId}, and where that log ends now. */
    public record LogBatch(long from, List<LogRecord> entries, Position tail) {}

    /** A page of a member's inventory; {@code tail} is where its log ended before the page was read. */
    public record InventoryPage(List<Inventory.Item> items, Position tail) {}

    public record Digests(Map<String, String> buckets) {}
}
