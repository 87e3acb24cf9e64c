package org.spreadosd.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Options every server command shares (commands.md): store, listen address, logging, ports. Each one,
 * when given, overrides the matching
 * {@code spreadosd.*} setting of reference.conf and of the {@code --config} file.
 */
public class ServerOptions {
    @Option(
            names = {"-s", "--store"},
            paramLabel = "PATH",
            description = "data directory of this node")
    Path store;

    @Option(
            names = {"-l", "--listen"},
            paramLabel = "HOST[:PORT]",
            description = "interface (and port) to listen on")
    String listen;

    @Option(
            names = {"-o", "--log"},
            paramLabel = "PATH",
            description = "write the log to this file instead of standard output")
    Path log;

    @Option(
            names = {"-v", "--verbose"},
            description = "log debug messages")
    boolean verbose;

    @Option(
            names = {"--trace"},
            description = "log trace messages")
    boolean trace;

    @Option(
            names = {"--config"},
            paramLabel = "FILE",
            description = "HOCON file with spreadosd.* settings (options still win)")
    Path config;

    @Option(
            names = {"--data-port"},
            paramLabel = "PORT",
            description = "node-to-node byte stream port (default port + 1000)")
    Integer dataPort;

    @Option(
            names = {"--cluster-port"},
            paramLabel = "PORT",
            description = "Pekko cluster port (default port + 2000)")
    Integer clusterPort;

    @Option(
            names = {"--management-port"},
            paramLabel = "PORT",
            description = "Pekko Management port (default port + 3000)")
    Integer managementPort;

    /** Sets the logging system properties; must run before the first logger is created. */
    void configureLogging() {
        if (System.getProperty("logback.configurationFile") == null) {
            Path home = Path.of(System.getProperty("spread.home", "."));
            System.setProperty(
                    "logback.configurationFile",
                    home.resolve("conf/logback.xml").toString());
        }
        if (log != null) {
            System.setProperty("spread.log.file", log.toAbsolutePath().toString());
            System.setProperty("spread.log.appender", "FILE");
        }
        if (trace || verbose) {
            System.setProperty("spread.log.level", trace ? "TRACE" : "DEBUG");
        }
    }

    /** The settings the options give, as a configuration layer over the --config file and reference.conf. */
    Config toConfig(Map<String, Object> commandSpecific) {
        return toConfig(commandSpecific, Map.of());
    }

    /**
     * @param commandDefaults defaults of this command that differ from reference.conf (e.g. its store directory):
     *     the --config file still overrides them
     */
    Config toConfig(Map<String, Object> commandSpecific, Map<String, Object> commandDefaults) {
        Map<String, Object> m = new HashMap<>(commandSpecific);
        put(m, "store", store == null ? null : store.toString());
        if (listen != null) {
            String[] hp = listen.split(":", 2);
            m.put("spreadosd.listen-host", hp[0]);
            if (hp.length == 2) {
                m.put("spreadosd.rpc-port", port(hp[1]));
            }
        }
        put(m, "data-port", dataPort);
        put(m, "cluster-port", clusterPort);
        put(m, "management-port", managementPort);
        Config options = ConfigFactory.parseMap(m);
        Config file = config == null ? ConfigFactory.empty() : ConfigFactory.parseFile(config.toFile());
        return options.withFallback(file).withFallback(ConfigFactory.parseMap(commandDefaults));
    }

    static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put("spreadosd." + key, value);
        }
    }

    /** {@code HOST[:PORT]} as the advertised host and, when given, the MessagePack-RPC port. */
    static void addAddress(Map<String, Object> m, String address) {
        if (address != null) {
            String[] hp = address.split(":", 2);
            m.put("spreadosd.advertise-host", hp[0]);
            if (hp.length == 2) {
                m.put("spreadosd.rpc-port", port(hp[1]));
            }
        }
    }

    /** A TCP port number, 1 to 65535; anything else is a usage error. */
    public static int port(String text) {
        try {
            int p = Integer.parseInt(text.trim());
            if (p > 0 && p < 65536) {
                return p;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        // an empty spec: a CommandLine of a plain Object cannot be built (picocli refuses it)
        throw new picocli.CommandLine.ParameterException(
                new picocli.CommandLine(picocli.CommandLine.Model.CommandSpec.create()),
                "not a port number: '" + text + "'");
    }

    static List<Integer> intList(String commaList) {
        return Arrays.stream(commaList.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(Integer::parseInt)
                .toList();
    }
}
