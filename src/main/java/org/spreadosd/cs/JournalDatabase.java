package org.spreadosd.cs;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.spreadosd.mds.MdsUri;

/**
 * Where the config server's journal lives: an embedded H2 database in the CS store by default, or
 * PostgreSQL (so that a new CS on another host rebuilds the configuration from the shared database).
 * The tables are the pekko-persistence-jdbc plugin's own, created from the create script the plugin
 * ships in its jar, once, when they are missing.
 */
public final class JournalDatabase {
    private final String url;
    private final boolean postgres;
    private final String user;
    private final String password;

    private JournalDatabase(String url, boolean postgres, String user, String password) {
        this.url = url;
        this.postgres = postgres;
        this.user = user;
        this.password = password;
    }

    /** {@code uri} empty: H2 in {@code csStore/journal}; else a jdbc:postgresql: or jdbc:h2: URL. */
    public static JournalDatabase of(String uri, Path csStore) {
        if (uri.isEmpty()) {
            return new JournalDatabase(
                    "jdbc:h2:file:" + csStore.toAbsolutePath().normalize().resolve("journal")
                            + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE",
                    false,
                    "sa",
                    "");
        }
        if (uri.startsWith("jdbc:postgresql:")) {
            return new JournalDatabase(uri, true, queryParameter(uri, "user"), queryParameter(uri, "password"));
        }
        if (uri.startsWith("jdbc:h2:")) {
            return new JournalDatabase(uri, false, "sa", "");
        }
        throw new IllegalArgumentException(
                "unsupported journal URI '" + MdsUri.redact(uri)
                        + "': use jdbc:postgresql://host:port/db?user=...&password=... (or leave it empty for H2 in the CS store)");
    }

    private static String queryParameter(String url, String name) {
        int q = url.indexOf('?');
        if (q >= 0) {
            for (String pair : url.substring(q + 1).split("&")) {
                String[] kv = pair.split("=", 2);
                if (kv[0].equals(name) && kv.length == 2) {
                    return URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
                }
            }
        }
        return "";
    }

    /** The plugin settings that point the shared database "spread" of reference.conf at this database. */
    public Config pekkoConfig() {
        String prefix = "pekko-persistence-jdbc.shared-databases.spread.";
        Map<String, Object> m = new HashMap<>();
        m.put(prefix + "profile", postgres ? "slick.jdbc.PostgresProfile$" : "slick.jdbc.H2Profile$");
        m.put(prefix + "db.url", url);
        m.put(prefix + "db.user", user);
        m.put(prefix + "db.password", password);
        m.put(prefix + "db.driver", postgres ? "org.postgresql.Driver" : "org.h2.Driver");
        return ConfigFactory.parseMap(m);
    }

    /** Creates the journal tables unless they exist; all in one transaction, so a failed start leaves no half schema. */
    public void createSchemaIfMissing() {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            if (hasJournalTable(c)) {
                return;
            }
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                // CREATE INDEX CONCURRENTLY cannot run in a transaction; on the new, empty tables a plain index is the
                // same.
                for (String sql : createScript().replace(" CONCURRENTLY ", " ").split(";")) {
                    if (!sql.isBlank()) {
                        st.execute(sql);
                    }
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException(
                    "cannot create the journal tables in " + describe() + ": " + e.getMessage(), e);
        }
    }

    private static boolean hasJournalTable(Connection c) throws SQLException {
        for (String name : new String[] {"event_journal", "EVENT_JOURNAL"}) {
            try (ResultSet rs = c.getMetaData().getTables(null, null, name, null)) {
                if (rs.next()) {
                    return true;
                }
            }
        }
        return false;
    }

    private String createScript() throws IOException {
        String resource = postgres ? "schema/postgres/postgres-create-schema.sql" : "schema/h2/h2-create-schema.sql";
        try (InputStream in = JournalDatabase.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the persistence plugin's " + resource + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    public String describe() {
        return MdsUri.redact(url);
    }
}
