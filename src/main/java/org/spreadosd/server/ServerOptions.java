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
 * Options every server command shares (commands.md). Each one, when given, overrides the matching
 * {@code spreadosd.*} setting of reference.conf and of the {@code --config} file.
 */
public class ServerOptions {
    @Option(names = {"-s", "--store"}, paramLabel = "PATH", description = "data directory of this node")
    Path store;

    @Option(names = {"-l", "--listen"}, paramLabel = "HOST[:PORT]", description = "interface (and port) to listen on")
    String listen;

    @Option(names = {"-t", "--http"}, paramLabel = "PORT", description = "serve the HTTP API on this port")
    Integer http;

    @Option(names = {"--http-error-page"}, paramLabel = "PATH", description = "HTML template of status pages")
    Path httpErrorPage;

    @Option(names = {"-R", "--read-only"}, description = "refuse writes")
    boolean readOnly;

    @Option(names = {"-N", "--read-only-name"}, paramLabel = "NAME", description = "serve the snapshot of versions named NAME (read-only)")
    String readOnlyName;

    @Option(names = {"-T", "--read-only-time"}, paramLabel = "TIME", description = "serve the snapshot at vtime TIME (read-only)")
    Long readOnlyTime;

    @Option(names = {"-L", "--location"}, paramLabel = "STRING", description = "location of this node (default subnet of its address)")
    String location;

    @Option(names = {"-o", "--log"}, paramLabel = "PATH", description = "write the log to this file instead of standard output")
    Path log;

    @Option(names = {"-v", "--verbose"}, description = "log debug messages")
    boolean verbose;

    @Option(names = {"--trace"}, description = "log trace messages")
    boolean trace;

    @Option(names = {"--config"}, paramLabel = "FILE", description = "HOCON file with spreadosd.* settings (options still win)")
    Path config;

    @Option(names = {"--data-port"}, paramLabel = "PORT", description = "node-to-node byte stream port (default port + 1000)")
    Integer dataPort;

    @Option(names = {"--cluster-port"}, paramLabel = "PORT", description = "Pekko cluster port (default port + 2000)")
    Integer clusterPort;

    @Option(names = {"--management-port"}, paramLabel = "PORT", description = "Pekko Management port (default port + 3000)")
    Integer managementPort;

    /** Sets the logging system properties; must run before the first logger is created. */
    void configureLogging() {
        if (System.getProperty("logback.configurationFile") == null) {
            Path home = Path.of(System.getProperty("spread.home", "."));
            System.setProperty("logback.configurationFile", home.resolve("conf/logback.xml").toString());
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
        Map<String, Object> m = new HashMap<>(commandSpecific);
        put(m, "store", store == null ? null : store.toString());
        if (listen != null) {
            String[] hp = listen.split(":", 2);
            m.put("spreadosd.listen-host", hp[0]);
            if (hp.length == 2) {
                m.put("spreadosd.rpc-port", Integer.parseInt(hp[1]));
            }
        }
        put(m, "http-port", http);
        put(m, "http.error-page", httpErrorPage == null ? null : httpErrorPage.toString());
        if (readOnly) {
            m.put("spreadosd.read-only", true);
        }
        put(m, "read-only-name", readOnlyName);
        put(m, "read-only-time", readOnlyTime);
        put(m, "location", location);
        put(m, "data-port", dataPort);
        put(m, "cluster-port", clusterPort);
        put(m, "management-port", managementPort);
        Config options = ConfigFactory.parseMap(m);
        return config == null ? options : options.withFallback(ConfigFactory.parseFile(config.toFile()));
    }

    static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put("spreadosd." + key, value);
        }
    }

    static List<Integer> intList(String commaList) {
        return Arrays.stream(commaList.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(Integer::parseInt).toList();
    }
}
