package org.spreadosd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.testing.StandaloneNodeExtension;
import picocli.CommandLine;

/** spreadcli against a started node over a real socket. */
class SpreadCliTest {
    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    record Run(int status, String out, String err) {}

    static Run cli(byte[] stdin, String... args) {
        SpreadCli cli = new SpreadCli();
        cli.stdin = new ByteArrayInputStream(stdin);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(cli).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        String[] all = new String[args.length + 1];
        all[0] = "127.0.0.1:" + standalone.node().rpcPort();
        System.arraycopy(args, 0, all, 1, args.length);
        return new Run(cmd.execute(all), out.toString(), err.toString());
    }

    static Run cli(String... args) {
        return cli(new byte[0], args);
    }

    @Test
    void addAndReadBack() {
        Run add = cli("add", "cli-key", "hello", "{\"type\":\"txt\"}");
        assertEquals(0, add.status(), add.err());
        assertTrue(add.out().matches("(?s)\\[\"cli-key\", \\d+, 0]\\n\\d+\\.\\d{6} sec\\n"), add.out());
        assertTrue(cli("get_data", "cli-key").out().startsWith("\"hello\"\n"));
        assertTrue(cli("get_attrs", "cli-key").out().startsWith("{\"type\": \"txt\"}\n"));
        assertTrue(cli("get", "cli-key").out().startsWith("[\"hello\", {\"type\": \"txt\"}]\n"));
        assertTrue(cli("read", "cli-key", "1", "3").out().startsWith("\"ell\"\n"));
        assertTrue(cli("get_data", "missing").out().startsWith("nil\n"));
    }

    @Test
    void dataFromStandardInput() {
        byte[] binary = {0, (byte) 0xff, 1};
        assertEquals(0, cli(binary, "addv_data", "v1", "cli-stdin", "-").status());
        assertTrue(cli("getv_data", "v1", "cli-stdin").out().startsWith("0x00ff01\n"));
        assertTrue(cli("deletev", "v1", "cli-stdin").out().startsWith("true\n"));
    }

    @Test
    void badArgumentsAndServerErrorsAreClear() {
        Run unknown = cli("frob", "k");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("unknown command 'frob'"));
        Run count = cli("gett", "k");
        assertEquals(2, count.status());
        assertTrue(count.err().contains("gett takes 2 arguments"));
        Run vtime = cli("gett", "soon", "k");
        assertTrue(vtime.err().contains("'soon' is not an integer"));
        Run json = cli("add", "k", "d", "[1]");
        assertTrue(json.err().contains("JSON object"));
        Run remote = cli("stat", "bogus");
        assertEquals(1, remote.status());
        assertTrue(remote.err().contains("unknown stat cmd 'bogus'"), remote.err());
    }
}
