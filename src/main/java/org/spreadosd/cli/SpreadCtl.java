package org.spreadosd.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.msgpack.value.Value;
import org.spreadosd.mds.MdsUri;
import org.spreadosd.rpc.RpcConnection;
import org.spreadosd.server.ServerOptions;
import org.spreadosd.util.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code spreadctl <cs address[:port]> <command>}: administers a cluster through its config server's
 * MessagePack-RPC port (18700), and asks each data server itself for its own figures.
 */
@Command(
        name = "spreadctl",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Administer a SpreadOSD cluster through its config server.",
        footer = {
            "",
            "Commands:",
            "  nodes                   nid, name, address, location, rsid, state, sync",
            "  stat                    per node: uptime, reads, writes, deletes, items",
            "  remove_node NID         drop a stopped (FAULT) node from the configuration",
            "  weight                  rsid, weight, policy, nids, names of each set",
            "  set_weight RSID WEIGHT  spread new keys by weight; 0 stops new keys on a set",
            "  reset_weight RSID       back to the default weight (10)",
            "  set_policy RSID POLICY  copies an add needs: all-reachable (at least 2), all-reachable:K, majority, N",
            "  reset_policy RSID       back to the default write policy (all-reachable)",
            "  mds                     show the metadata store URI (passwords hidden)",
            "  set_mds URI             change the metadata store of every node",
            "  mds_cache               show the metadata cache URI",
            "  set_mds_cache URI       change the metadata cache of every node",
            "  items                   versions stored on each data server",
            "  version                 software version of the config server and each node",
            "  locate KEY              every version of KEY: vtime, vname, rsid, holders"
        })
public final class SpreadCtl implements Callable<Integer> {
    private static final int DEFAULT_PORT = 18700;
    private static final int DEFAULT_DS_PORT = 18900;
    /** Each command's arguments, named as in the help; NID, RSID and WEIGHT are integers. */
    static final Map<String, List<String>> SIGNATURES = Map.ofEntries(
            Map.entry("nodes", List.of()),
            Map.entry("stat", List.of()),
            Map.entry("remove_node", List.of("NID")),
            Map.entry("weight", List.of()),
            Map.entry("set_weight", List.of("RSID", "WEIGHT")),
            Map.entry("reset_weight", List.of("RSID")),
            Map.entry("set_policy", List.of("RSID", "POLICY")),
            Map.entry("reset_policy", List.of("RSID")),
            Map.entry("mds", List.of()),
            Map.entry("set_mds", List.of("URI")),
            Map.entry("mds_cache", List.of()),
            Map.entry("set_mds_cache", List.of("URI")),
            Map.entry("items", List.of()),
            Map.entry("version", List.of()),
            Map.entry("locate", List.of("KEY")));

    private static final Set<String> INTEGER_ARGS = Set.of("NID", "RSID", "WEIGHT");
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
        if (!SIGNATURES.containsKey(command)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown command '" + command + "'");
        }
        String host;
        int port;
        try {
            checkArguments();
            String[] hp = address.split(":", 2);
            host = hp[0];
            port = hp.length == 2 ? ServerOptions.port(hp[1]) : DEFAULT_PORT;
        } catch (UsageError e) {
            err.println("spreadctl: " + e.getMessage());
            return 2;
        } catch (CommandLine.ParameterException badPort) {
            err.println("spreadctl: bad config server address '" + address + "': " + badPort.getMessage());
            return 2;
        }
        RpcConnection cs;
        try {
            cs = new RpcConnection(host, port, timeoutSeconds * 1000);
        } catch (IOException e) {
            err.println("spreadctl: cannot reach the config server at " + host + ":" + port + ": " + e.getMessage()
                    + " (is spread-cs running there? it answers a few seconds after it starts)");
            return 2;
        }
        try (cs) {
            out.print(run(cs, host, port));
            out.flush();
            return 0;
        } catch (NotFound e) {
            err.println("spreadctl: " + e.getMessage());
            return 1;
        } catch (RpcConnection.RemoteError e) {
            err.println("spreadctl: " + command + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("spreadctl: the config server at " + host + ":" + port + " did not answer: " + e.getMessage());
            return 2;
        }
    }

    private static final class NotFound extends RuntimeException {
        NotFound(String message) {
            super(message);
        }
    }

    private String run(RpcConnection cs, String host, int port) throws IOException {
        return switch (command) {
            case "nodes" ->
                table(
                        List.of("nid", "name", "address", "location", "rsid", "state", "sync"),
                        perNode(nodes(cs), "replication_state"));
            case "stat" ->
                table(
                        List.of("nid", "name", "address", "state", "uptime", "reads", "writes", "deletes", "items"),
                        perNode(nodes(cs), "uptime", "cmd_read", "cmd_write", "cmd_delete", "db_items"));
            case "items" -> table(List.of("nid", "name", "address", "items"), perNode(nodes(cs), "db_items"));
            case "version" -> table(List.of("nid", "name", "address", "version"), versions(cs, host, port));
            case "remove_node" -> {
                cs.call("remove_node", number(0));
                yield json ? json(Map.of("removed", number(0))) : "removed node " + number(0) + "\n";
            }
            case "weight" -> weights(cs);
            case "set_weight" -> {
                cs.call("set_replset_weight", number(0), number(1));
                yield weights(cs);
            }
            case "reset_weight" -> {
                cs.call("reset_replset_weight", number(0));
                yield weights(cs);
            }
            case "set_policy" -> {
                cs.call("set_write_policy", number(0), args.get(1));
                yield weights(cs);
            }
            case "reset_policy" -> {
                cs.call("reset_write_policy", number(0));
                yield weights(cs);
            }
            case "mds" -> uri("mds", cs.call("get_mds_uri"));
            case "set_mds" -> {
                cs.call("set_mds_uri", args.get(0));
                yield uri("mds", cs.call("get_mds_uri"));
            }
            case "mds_cache" -> uri("mds_cache", cs.call("get_mds_cache_uri"));
            case "set_mds_cache" -> {
                cs.call("set_mds_cache_uri", args.get(0));
                yield uri("mds_cache", cs.call("get_mds_cache_uri"));
            }
            case "locate" -> locate(cs, args.get(0));
            default -> throw new IllegalStateException("no command " + command);
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
            row.put(
                    "rsid",
                    n.get(3).asArrayValue().list().stream()
                            .map(r -> String.valueOf(r.asIntegerValue().toLong()))
                            .collect(Collectors.joining(",")));
            row.put("state", fault.contains(nid) ? "FAULT" : "active");
            rows.add(row);
        }
        rows.sort((a, b) -> Long.compare((Long) a.get("nid"), (Long) b.get("nid")));
        return rows;
    }

    /**
     * Each node's row with its data server's own answers to {@code stat}, asked of all nodes at once so that
     * silent ones cost one timeout in all. A figure that cannot be had shows "-" and does not stop the table.
     */
    private List<Map<String, Object>> perNode(List<Map<String, Object>> nodes, String... cmds) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(nodes.size(), 32)));
        try {
            List<Future<Map<String, Object>>> answers = new ArrayList<>();
            for (Map<String, Object> node : nodes) {
                // A FAULT node is down: asking it would only cost a timeout.
                answers.add(pool.submit(() -> "FAULT".equals(node.get("state"))
                        ? unknownFigures(cmds)
                        : askNode((String) node.get("address"), cmds)));
            }
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                Map<String, Object> row = new LinkedHashMap<>(nodes.get(i));
                row.putAll(answers.get(i).get());
                rows.add(row);
            }
            return rows;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while asking the data servers");
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static final Map<String, String> COLUMN_OF = Map.of(
            "uptime",
            "uptime",
            "cmd_read",
            "reads",
            "cmd_write",
            "writes",
            "cmd_delete",
            "deletes",
            "db_items",
            "items",
            "version",
            "version",
            "replication_state",
            "sync");

    private static Map<String, Object> unknownFigures(String... cmds) {
        Map<String, Object> figures = new LinkedHashMap<>();
        for (String cmd : cmds) {
            figures.put(COLUMN_OF.get(cmd), null);
        }
        return figures;
    }

    private Map<String, Object> askNode(String nodeAddress, String... cmds) {
        Map<String, Object> figures = unknownFigures(cmds);
        String[] hp = nodeAddress.split(":", 2);
        try (RpcConnection node = new RpcConnection(
                hp[0], hp.length == 2 ? Integer.parseInt(hp[1]) : DEFAULT_DS_PORT, timeoutSeconds * 1000)) {
            for (String cmd : cmds) {
                try {
                    Value v = node.call("stat", cmd);
                    figures.put(
                            COLUMN_OF.get(cmd),
                            v.isIntegerValue() ? (Object) v.asIntegerValue().toLong() : text(v));
                } catch (RpcConnection.RemoteError unknownToThisServer) {
                    // an older data server may lack a figure; the others still count
                }
            }
        } catch (IOException | RuntimeException unreachable) {
            // the figures not had stay "-"
        }
        return figures;
    }

    private List<Map<String, Object>> versions(RpcConnection cs, String host, int port) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> self = new LinkedHashMap<>();
        self.put("nid", null);
        self.put("name", "cs");
        self.put("address", host + ":" + port);
        self.put("version", text(cs.call("stat", "version")));
        rows.add(self);
        rows.addAll(perNode(nodes(cs), "version"));
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
            List<Long> nids = set.get(0).asArrayValue().list().stream()
                    .map(v -> v.asIntegerValue().toLong())
                    .toList();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("rsid", e.getKey().asIntegerValue().toLong());
            row.put("weight", set.get(1).asIntegerValue().toLong());
            row.put("policy", set.size() > 2 ? text(set.get(2)) : "all-reachable");
            row.put("nids", nids.stream().map(String::valueOf).collect(Collectors.joining(",")));
            row.put(
                    "names",
                    nids.stream().map(nid -> names.getOrDefault(nid, "?")).collect(Collectors.joining(",")));
            rows.add(row);
        }
        rows.sort((a, b) -> Long.compare((Long) a.get("rsid"), (Long) b.get("rsid")));
        return table(List.of("rsid", "weight", "policy", "nids", "names"), rows);
    }

    private String locate(RpcConnection cs, String key) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Value v : cs.call("locate", key.getBytes(StandardCharsets.UTF_8)).asArrayValue()) {
            List<Value> located = v.asArrayValue().list();
            List<Value> okey = located.get(0).asArrayValue().list();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("vtime", okey.get(1).asIntegerValue().toLong());
            row.put(
                    "vname",
                    located.get(1).isNilValue()
                            ? null
                            : ValuePrinter.printBytes(
                                    located.get(1).asRawValue().asByteArray()));
            row.put("rsid", okey.get(2).asIntegerValue().toLong());
            List<String> holders = new ArrayList<>();
            for (Value h : located.get(2).asArrayValue()) {
                List<Value> holder = h.asArrayValue().list();
                holders.add(text(holder.get(1)) + "("
                        + (holder.get(2).asBooleanValue().getBoolean() ? "held" : "missing") + ")");
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

    /** The rows' given columns, as a text table or as a JSON array of objects. */
    private String table(List<String> columns, List<Map<String, Object>> rows) throws JsonProcessingException {
        if (!json) {
            return TextTable.render(columns, rows);
        }
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            Map<String, Object> object = new LinkedHashMap<>();
            columns.forEach(c -> object.put(c, row.get(c)));
            objects.add(object);
        }
        return json(objects);
    }

    private static String json(Object value) throws JsonProcessingException {
        return JSON.writeValueAsString(value) + "\n";
    }

    /** The number and kinds of the command's arguments, before anything is sent. */
    private void checkArguments() {
        if (timeoutSeconds < 1) {
            throw new UsageError("--timeout must be at least 1 second, got " + timeoutSeconds);
        }
        List<String> names = SIGNATURES.get(command);
        if (args.size() != names.size()) {
            throw new UsageError(command + " takes "
                    + (names.isEmpty()
                            ? "no arguments"
                            : names.size() + " argument" + (names.size() == 1 ? "" : "s") + " ("
                                    + String.join(" ", names) + ")")
                    + ", got " + args.size());
        }
        for (int i = 0; i < names.size(); i++) {
            if (INTEGER_ARGS.contains(names.get(i))) {
                number(i);
            }
        }
    }

    private long number(int i) {
        try {
            return Long.parseLong(args.get(i));
        } catch (NumberFormatException e) {
            throw new UsageError(SIGNATURES.get(command).get(i) + " must be an integer, got '" + args.get(i) + "'");
        }
    }

    /** Strings come back as str from new clients' servers, as raw (bin) in the old spec. */
    private static String text(Value v) {
        return v.isNilValue() ? "" : v.isRawValue() ? v.asRawValue().asString() : v.toString();
    }
}
