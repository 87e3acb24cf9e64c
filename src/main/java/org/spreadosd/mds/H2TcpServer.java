package org.spreadosd.mds;

import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.h2.tools.Server;

/**
 * The config server's embedded H2 metadata database, served over TCP to the other nodes of a
 * multi-process cluster. The server only serves the database directory of the store, and never creates
 * a database for a remote client: the config server opens (creates) it locally first.
 */
public final class H2TcpServer implements AutoCloseable {
    private final Server server;
    private final String url;

    private H2TcpServer(Server server, String url) {
        this.server = server;
        this.url = url;
    }

    /**
     * @param dir the database directory (the same one {@link MdsUri#embeddedH2} names)
     * @param advertiseHost how other nodes reach this host
     * @param allowOthers whether hosts other than this one may connect (a cluster spread over hosts)
     */
    public static H2TcpServer start(Path dir, String advertiseHost, int port, boolean allowOthers) throws SQLException {
        List<String> args = new ArrayList<>(List.of(
                "-tcpPort",
                Integer.toString(port),
                "-baseDir",
                dir.toAbsolutePath().normalize().toString()));
        if (allowOthers) {
            args.add("-tcpAllowOthers");
        }
        Server server = Server.createTcpServer(args.toArray(String[]::new)).start();
        return new H2TcpServer(server, "jdbc:h2:tcp://" + advertiseHost + ":" + port + "/" + MdsUri.H2_DATABASE_NAME);
    }

    /** The JDBC URL other nodes use. */
    public String url() {
        return url;
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.stop();
    }
}
