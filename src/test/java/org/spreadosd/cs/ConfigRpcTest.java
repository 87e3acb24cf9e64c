package org.spreadosd.cs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.cli.SpreadCtl;
import org.spreadosd.testing.StandaloneNodeExtension;
import picocli.CommandLine;

/** The config server's RPC methods of a running node, through spreadctl over a real socket. */
class ConfigRpcTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    record Run(int status, String out, String err) {}

    static Run spreadctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 1];
        all[0] = "127.0.0.1:" + standalone.node().rpcPort();
        System.arraycopy(args, 0, all, 1, args.length);
        int status = new CommandLine(new SpreadCtl())
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(all);
        return new Run(status, out.toString(), err.toString());
    }

    /** What spreadctl shows of the configuration: each set's weight and policy, and the metadata store. */
    static String shown() {
        Run weights = spreadctl("weight");
        Run mds = spreadctl("mds");
        assertEquals(0, weights.status(), weights::toString);
        assertEquals(0, mds.status(), mds::toString);
        return weights.out() + mds.out();
    }

    @Test
    void aChangeTheConfigServerRefusesIsAnErrorAndChangesNothing() {
        String before = shown();
        assertTrue(before.contains("all-reachable"), before);

        Run policy = spreadctl("set_policy", "0", "garbage");
        assertNotEquals(0, policy.status(), policy::toString);
        assertTrue(
                policy.err()
                        .contains(
                                "write policy must be all-reachable, all-reachable:K (K >= 1 copies at least), majority or a number of copies >= 1"),
                policy::toString);

        Run mds = spreadctl("set_mds", "/var/lib/spread/mds");
        assertNotEquals(0, mds.status(), mds::toString);
        assertTrue(mds.err().contains("unsupported metadata store URI '/var/lib/spread/mds'"), mds::toString);

        assertEquals(before, shown(), "nothing changed");
        Run good = spreadctl("set_policy", "0", "majority");
        assertEquals(0, good.status(), good::toString);
        assertTrue(shown().contains("majority"), "the config server still takes changes");
    }
}
