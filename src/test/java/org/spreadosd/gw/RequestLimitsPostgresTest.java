package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.gw.RequestLimitsTest.StoreState;
import org.spreadosd.testing.PostgresServer;
import org.spreadosd.testing.RpcClient;
import org.spreadosd.testing.TestNode;

/**
 * On PostgreSQL, whose bytea columns take any length, an oversized key over RPC used to be reserved, written to
 * the set and then left there without an update-log record; it must be refused before anything happens.
 */
class RequestLimitsPostgresTest {
    @Test
    void anOversizedKeyOverRpcIsRefusedBeforeAnyByteIsWritten(@TempDir Path dir) throws IOException {
        String mds = PostgresServer.freshDatabase("spread_limits");
        Path store = Files.createDirectories(dir.resolve("store"));
        try (TestNode node = TestNode.standalone(store, Map.of("spreadosd.mds", mds));
                RpcClient c = new RpcClient(node.rpcPort())) {
            StoreState before = StoreState.of(store);
            RequestLimitsTest.assertLimitError(
                    "key is 3000 bytes, the limit is 2048 (spreadosd.limits.max-key-bytes)",
                    RequestLimitsTest.call(c, "add", p -> {
                        p.packArrayHeader(3);
                        p.packBinaryHeader(RequestLimitsTest.LONG_KEY.length).writePayload(RequestLimitsTest.LONG_KEY);
                        p.packString("data");
                        p.packMapHeader(0);
                    }));
            RequestLimitsTest.assertLimitError(
                    "spreadosd.limits.max-vname-bytes",
                    RequestLimitsTest.call(
                            c,
                            "addv_data",
                            p -> p.packArrayHeader(3)
                                    .packString(RequestLimitsTest.LONG_VNAME)
                                    .packString("pg-vname")
                                    .packString("data")));
            assertEquals(before, StoreState.of(store), "no version file, no update-log record");
        }
    }
}
