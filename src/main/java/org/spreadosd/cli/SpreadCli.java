package org.spreadosd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;
import org.spreadosd.rpc.RpcConnection;
import org.spreadosd.util.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code spreadcli <address[:port]> <command> [args...]}: one MessagePack-RPC call per run, arguments
 * in the method's order (commands.md). A data argument of {@code -} is read from standard input.
 * Prints the result, then the time the call took.
 */
@Command(
        name = "spreadcli",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Call a SpreadOSD gateway or data server over MessagePack-RPC.",
        footer = {
            "",
            "Commands and their arguments (K key, T vtime, V vname, N number, D data or -, J JSON attributes):",
            "  get K, gett T K, getv V K, get_data K, gett_data T K, getv_data V K,",
            "  get_attrs K, gett_attrs T K, getv_attrs V K, read K N N, readt T K N N, readv V K N N,",
            "  add K D J, addv V K D J, add_data K D, addv_data V K D, update_attrs K J,",
            "  delete K, deletet T K, deletev V K, remove K, url K, urlt T K, urlv V K, util_locate K, stat NAME"
        })
public final class SpreadCli implements Callable<Integer> {
    /** Each command's argument kinds, in the method's order. */
    static final Map<String, String> SIGNATURES = Map.ofEntries(
            Map.entry("get", "K"),
            Map.entry("gett", "TK"),
            Map.entry("getv", "VK"),
            Map.entry("get_data", "K"),
            Map.entry("gett_data", "TK"),
            Map.entry("getv_data", "VK"),
            Map.entry("get_attrs", "K"),
            Map.entry("gett_attrs", "TK"),
            Map.entry("getv_attrs", "VK"),
            Map.entry("read", "KNN"),
            Map.entry("readt", "TKNN"),
            Map.entry("readv", "VKNN"),
            Map.entry("add", "KDJ"),
            Map.entry("addv", "VKDJ"),
            Map.entry("add_data", "KD"),
            Map.entry("addv_data", "VKD"),
            Map.entry("update_attrs", "KJ"),
            Map.entry("delete", "K"),
            Map.entry("deletet", "TK"),
            Map.entry("deletev", "VK"),
            Map.entry("remove", "K"),
            Map.entry("url", "K"),
            Map.entry("urlt", "TK"),
            Map.entry("urlv", "VK"),
            Map.entry("util_locate", "K"),
            Map.entry("stat", "V"));

    private static final int DEFAULT_PORT = 18800;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(index = "0", paramLabel = "ADDRESS[:PORT]", description = "gateway or data server (default port 18800)")
    String address;

    @Parameters(index = "1", paramLabel = "COMMAND", description = "the method to call")
    String command;

    @Parameters(index = "2..*", paramLabel = "ARGS", description = "the method's arguments in its order")
    List<String> args = new ArrayList<>();

    @Spec
    CommandLine.Model.CommandSpec spec;

    InputStream stdin = System.in;

    public static void main(String[] argv) {
        System.exit(new CommandLine(new SpreadCli()).execute(argv));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String signature = SIGNATURES.get(command);
        if (signature == null) {
            err.println("spreadcli: unknown command '" + command + "'; see spreadcli --help");
            return 2;
        }
        if (args.size() != signature.length()) {
            err.println("spreadcli: " + command + " takes " + signature.length() + " arguments (" + signature
                    + "), got " + args.size());
            return 2;
        }
        Object[] values = new Object[args.size()];
        for (int i = 0; i < values.length; i++) {
            try {
                values[i] = convert(signature.charAt(i), args.get(i));
            } catch (IllegalArgumentException e) {
                err.println("spreadcli: argument " + (i + 1) + " of " + command + ": " + e.getMessage());
                return 2;
            }
        }
        String host = address;
        int port = DEFAULT_PORT;
        int colon = address.lastIndexOf(':');
        if (colon > 0) {
            host = address.substring(0, colon);
            port = Integer.parseInt(address.substring(colon + 1));
        }
        long start = System.nanoTime();
        try (RpcConnection rpc = new RpcConnection(host, port, 60_000)) {
            Value result = rpc.call(command, values);
            double seconds = (System.nanoTime() - start) / 1e9;
            out.println(ValuePrinter.print(result));
            out.printf("%.6f sec%n", seconds);
            out.flush();
            return 0;
        } catch (RpcConnection.RemoteError e) {
            err.println("spreadcli: error: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("spreadcli: cannot call " + address + ": " + e.getMessage());
            return 1;
        }
    }

    private Object convert(char kind, String arg) {
        return switch (kind) {
            case 'K', 'V' -> arg.getBytes(StandardCharsets.UTF_8);
            case 'T', 'N' -> {
                try {
                    yield Long.parseLong(arg);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'" + arg + "' is not an integer");
                }
            }
            case 'D' -> arg.equals("-") ? readStdin() : arg.getBytes(StandardCharsets.UTF_8);
            case 'J' -> attrs(arg);
            default -> throw new IllegalStateException("kind " + kind);
        };
    }

    private byte[] readStdin() {
        try {
            return stdin.readAllBytes();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read standard input: " + e.getMessage());
        }
    }

    private static Value attrs(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("attributes are not valid JSON: " + json);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(
                    "attributes must be a JSON object of strings, e.g. '{\"type\":\"png\"}'");
        }
        List<Value> kv = new ArrayList<>();
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new IllegalArgumentException("attribute '" + e.getKey() + "' must be a string");
            }
            kv.add(ValueFactory.newString(e.getKey()));
            kv.add(ValueFactory.newString(e.getValue().textValue()));
        }
        return ValueFactory.newMap(kv.toArray(new Value[0]));
    }
}
