package org.spreadosd.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.msgpack.value.Value;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.rpc.RpcConnection;
import org.spreadosd.server.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code spreadctl <cs address[:port]> <command>}: administers a cluster through its config server's
 * MessagePack-RPC port (18700), and asks each data server itself for its own figures.
 */
@Command(name = "spreadctl", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Administer a SpreadOSD cluster through its config server.",
        footer = {"", "Commands:",
                "  nodes                   nid, name, address, location, rsid and state (active or FAULT) of every data server",
                "  stat                    per data server: state, uptime, reads, writes, deletes, items",
                "  remove_node NID         remove a data server that is down (FAULT) from the configuration",
                "  weight                  rsid, weight, nids and names of every replication-set",
                "  set_weight RSID WEIGHT  how new keys spread: in proportion to weights; 0 stops new keys on a set",
                "  reset_weight RSID       back to the default weight (10)",
                "  mds | set_mds URI       show or change the metadata store of every node",
                "  mds_cache | set_mds_cache URI   show or change the metadata cache",
                "  items                   versions stored on each data server",
                "  version                 software version of the config server and each data server",
                "  locate KEY              every version of KEY: vtime, vname, rsid, and which members hold its bytes"})
public final class SpreadCtl implements Callable<Integer> {
    private static final int DEFAULT_PORT = 18700;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--json", description = "print machine-readable JSON instead of a table")
    boolean json;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "how long to wait for each server (default 10)")
    int timeoutSeconds = 10;

    @Parameters(index = "0", paramLabel = "CS_ADDRESS[:PORT]", description = "the config server (default port 18700)")
    String address;

    @Parameters(index = "1", paramLabel = "COMMAND", description = "see Commands below")
    String command;

    @Parameters(index = "2..*", paramLabel = "ARGS", description = "the command's arguments")
    List<String> args = new ArrayList<>();

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** A usage mistake: message on stderr, exit code 2. */
    private static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }

    public static void main(String[] argv) {
        System.exit(new CommandLine(new SpreadCtl()).execute(argv));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String[] hp = address.split(":", 2);
        int port = hp.length == 2 ? Integer.parseInt(hp[1]) : DEFAULT_PORT;
        RpcConnection cs;
        try {
            cs = new RpcConnection(hp[0], port, timeoutSeconds * 1000);
        } catch (IOException e) {
            err.println("spreadctl: cannot reach the config server at " + hp[0] + ":" + port + ": " + e.getMessage()
                    + " (is spread-cs running there? it answers a few seconds after it starts)");
            return 2;
        }
        try (cs) {
            out.print(run(cs));
            out.flush();
            return 0;
        } catch (UsageError e) {
            err.println("spreadctl: " + e.getMessage());
            return 2;
        } catch (NotFound e) {
            err.println("spreadctl: " + e.getMessage());
            return 1;
        } catch (RpcConnection.RemoteError e) {
            err.println("spreadctl: " + command + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("spreadctl: the config server at " + hp[0] + ":" + port + " did not answer: " + e.getMessage());
            return 2;
        }
    }

    private static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    private String run(RpcConnection cs) throws IOException {
        return switch (command) {
            case "nodes" -> { expect(0); yield table(List.of("nid", "name", "address", "location", "rsid", "state"), nodes(cs)); }
            case "stat" -> { expect(0); yield table(List.of("nid", "name", "address", "state", "uptime", "reads", "writes", "deletes", "items"),
                    perNode(cs, "uptime", "cmd_read", "cmd_write", "cmd_delete", "db_items")); }
            case "items" -> { expect(0); yield table(List.of("nid", "name", "address", "items"), perNode(cs, "db_items")); }
            case "version" -> { expect(0); yield table(List.of("nid", "name", "address", "version"), versions(cs)); }
            case "remove_node" -> {
                expect(1);
                cs.call("remove_node", number(0, "nid"));
                yield json ? json(Map.of("removed", number(0, "nid"))) : "removed node " + args.get(0) + "\n";
            }
            case "weight" -> { expect(0); yield weights(cs); }
            case "set_weight" -> {
                expect(2);
                cs.call("set_replset_weight", number(0, "rsid"), number(1, "weight"));
                yield weights(cs);
            }
            case "reset_weight" -> { expect(1); cs.call("reset_replset_weight", number(0, "rsid")); yield weights(cs); }
            case "mds" -> { expect(0); yield uri("mds", cs.call("get_mds_uri")); }
            case "set_mds" -> { expect(1); cs.call("set_mds_uri", args.get(0)); yield uri("mds", cs.call("get_mds_uri")); }
            case "mds_cache" -> { expect(0); yield uri("mds_cache", cs.call("get_mds_cache_uri")); }
            case "set_mds_cache" -> {
                expect(1);
                cs.call("set_mds_cache_uri", args.get(0));
                yield uri("mds_cache", cs.call("get_mds_cache_uri"));
            }
            case "locate" -> { expect(1); yield locate(cs, args.get(0)); }
            default -> throw new UsageError("unknown command '" + command + "'; see spreadctl --help");
        };
    }

    private List<Map<String, Object>> nodes(RpcConnection cs) throws IOException {
        Set<Long> fault = new TreeSet<>();
        for (Value nid : cs.call("stat", "fault").asArrayValue()) {
            fault.add(nid.asIntegerValue().toLong());
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Value v : cs.call("stat", "nodes").asArrayValue()) {
            List<Value> n = v.asArrayValue().list();
            long nid = n.get(0).asIntegerValue().toLong();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("nid", nid);
            row.put("name", text(n.get(2)));
            row.put("address", text(n.get(1)));
            row.put("location", text(n.get(4)));
            row.put("rsid", n.get(3).asArrayValue().list().stream().map(r -> String.valueOf(r.asIntegerValue().toLong()))
                    .collect(Collectors.joining(",")));
            row.put("state", fault.contains(nid) ? "FAULT" : "active");
            rows.add(row);
        }
        rows.sort((a, b) -> Long.compare((Long) a.get("nid"), (Long) b.get("nid")));
        return rows;
    }

    /** Each data server's own answers to {@code stat}; one that cannot be asked shows "-" and does not stop the table. */
    private List<Map<String, Object>> perNode(RpcConnection cs, String... cmds) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> node : nodes(cs)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("nid", node.get("nid"));
            row.put("name", node.get("name"));
            row.put("address", node.get("address"));
            row.put("state", node.get("state"));
            Map<String, Object> figures = askNode((String) node.get("address"), cmds);
            row.putAll(figures);
            rows.add(row);
        }
        return rows;
    }

    private static final Map<String, String> COLUMN_OF = Map.of("uptime", "uptime", "cmd_read", "reads", "cmd_write", "writes",
            "cmd_delete", "deletes", "db_items", "items", "version", "version");

    private Map<String, Object> askNode(String nodeAddress, String... cmds) {
        Map<String, Object> figures = new LinkedHashMap<>();
        String[] hp = nodeAddress.split(":", 2);
        try (RpcConnection node = new RpcConnection(hp[0], Integer.parseInt(hp[1]), timeoutSeconds * 1000)) {
            for (String cmd : cmds) {
                Value v = node.call("stat", cmd);
                figures.put(COLUMN_OF.get(cmd), v.isIntegerValue() ? (Object) v.asIntegerValue().toLong() : text(v));
            }
        } catch (IOException | RuntimeException unreachable) {
            for (String cmd : cmds) {
                figures.putIfAbsent(COLUMN_OF.get(cmd), null);
            }
        }
        return figures;
    }

    private List<Map<String, Object>> versions(RpcConnection cs) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> self = new LinkedHashMap<>();
        self.put("nid", null);
        self.put("name", "cs");
        self.put("address", address.contains(":") ? address : address + ":" + DEFAULT_PORT);
        self.put("version", text(cs.call("stat", "version")));
        rows.add(self);
        for (Map<String, Object> node : nodes(cs)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("nid", node.get("nid"));
            row.put("name", node.get("name"));
            row.put("address", node.get("address"));
            row.putAll(askNode((String) node.get("address"), "version"));
            rows.add(row);
        }
        return rows;
    }

    private String weights(RpcConnection cs) throws IOException {
        Map<Long, String> names = new LinkedHashMap<>();
        for (Map<String, Object> n : nodes(cs)) {
            names.put((Long) n.get("nid"), (String) n.get("name"));
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map.Entry<Value, Value> e : cs.call("stat", "replset").asMapValue().entrySet()) {
            List<Value> set = e.getValue().asArrayValue().list();
            List<Long> nids = set.get(0).asArrayValue().list().stream().map(v -> v.asIntegerValue().toLong()).toList();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rsid", e.getKey().asIntegerValue().toLong());
            row.put("weight", set.get(1).asIntegerValue().toLong());
            row.put("nids", nids.stream().map(String::valueOf).collect(Collectors.joining(",")));
            row.put("names", nids.stream().map(nid -> names.getOrDefault(nid, "?")).collect(Collectors.joining(",")));
            rows.add(row);
        }
        rows.sort((a, b) -> Long.compare((Long) a.get("rsid"), (Long) b.get("rsid")));
        return table(List.of("rsid", "weight", "nids", "names"), rows);
    }

    private String locate(RpcConnection cs, String key) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Value v : cs.call("locate", key.getBytes(StandardCharsets.UTF_8)).asArrayValue()) {
            List<Value> located = v.asArrayValue().list();
            List<Value> okey = located.get(0).asArrayValue().list();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("vtime", okey.get(1).asIntegerValue().toLong());
            row.put("vname", located.get(1).isNilValue() ? null : ValuePrinter.printBytes(located.get(1).asRawValue().asByteArray()));
            row.put("rsid", okey.get(2).asIntegerValue().toLong());
            List<String> holders = new ArrayList<>();
            for (Value h : located.get(2).asArrayValue()) {
                List<Value> holder = h.asArrayValue().list();
                holders.add(text(holder.get(1)) + "(" + (holder.get(2).asBooleanValue().getBoolean() ? "held" : "missing") + ")");
            }
            row.put("nodes", String.join(" ", holders));
            rows.add(row);
        }
        if (rows.isEmpty()) {
            throw new NotFound("not found: " + key);
        }
        return table(List.of("vtime", "vname", "rsid", "nodes"), rows);
    }

    private String uri(String what, Value uri) throws JsonProcessingException {
        String shown = MdsUri.redact(text(uri));
        return json ? json(Map.of(what, shown)) : (shown.isEmpty() ? "(none: each node's default)" : shown) + "\n";
    }

    private String table(List<String> columns, List<Map<String, Object>> rows) throws JsonProcessingException {
        return json ? json(rows) : TextTable.render(columns, rows);
    }

    private static String json(Object value) throws JsonProcessingException {
        return JSON.writeValueAsString(value) + "\n";
    }

    private void expect(int n) {
        if (args.size() != n) {
            throw new UsageError(command + " takes " + n + " argument" + (n == 1 ? "" : "s") + ", got " + args.size());
        }
    }

    private long number(int i, String what) {
        try {
            return Long.parseLong(args.get(i));
        } catch (NumberFormatException e) {
            throw new UsageError(what + " must be an integer, got '" + args.get(i) + "'");
        }
    }

    /** Strings come back as str from new clients' servers, as raw (bin) in the old spec. */
    private static String text(Value v) {
        return v.isNilValue() ? "" : v.isRawValue() ? v.asRawValue().asString() : v.toString();
    }
}
