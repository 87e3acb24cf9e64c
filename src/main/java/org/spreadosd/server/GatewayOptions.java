package org.spreadosd.server;

import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the commands that serve clients (spread-gw, spread-ds, spread-standalone): HTTP, snapshots, location. */
public class GatewayOptions {
    @Option(
            names = {"-t", "--http"},
            paramLabel = "PORT",
            description = "serve the HTTP API on this port")
    Integer http;

    @Option(
            names = {"--http-error-page"},
            paramLabel = "PATH",
            description = "HTML template of status pages")
    Path httpErrorPage;

    @Option(
            names = {"-R", "--read-only"},
            description = "refuse writes")
    boolean readOnly;

    @Option(
            names = {"-N", "--read-only-name"},
            paramLabel = "NAME",
            description = "serve the snapshot of versions named NAME (read-only)")
    String readOnlyName;

    @Option(
            names = {"-T", "--read-only-time"},
            paramLabel = "TIME",
            description = "serve the snapshot at vtime TIME (read-only)")
    Long readOnlyTime;

    @Option(
            names = {"-L", "--location"},
            paramLabel = "STRING",
            description = "location of this node (default subnet of its address)")
    String location;

    void addTo(Map<String, Object> m) {
        ServerOptions.put(m, "http-port", http);
        ServerOptions.put(m, "http.error-page", httpErrorPage == null ? null : httpErrorPage.toString());
        if (readOnly) {
            m.put("spreadosd.read-only", true);
        }
        ServerOptions.put(m, "read-only-name", readOnlyName);
        ServerOptions.put(m, "read-only-time", readOnlyTime);
        ServerOptions.put(m, "location", location);
    }
}
