package org.spreadosd.mds;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Turns what an operator gives as {@code --mds} into a JDBC URL: a JDBC URL is taken as it is,
 * anything else is a directory for an embedded H2 database.
 */
public final class MdsUri {
    /** The file name of the embedded H2 database inside its directory. */
    public static final String H2_DATABASE_NAME = "spread";

    private MdsUri() {}

    public static String toJdbcUrl(String uri) {
        if (uri.startsWith("jdbc:")) {
            return uri;
        }
        return embeddedH2(h2Directory(uri));
    }

    /** The directory an operator's {@code --mds} names for an embedded H2 database: a path, or h2:path. */
    public static Path h2Directory(String uri) {
        return Path.of(uri.startsWith("h2:") ? uri.substring(3) : uri);
    }

    /**
     * H2 writes its commits out in the background (WRITE_DELAY, ms) instead of one file write per commit:
     * the store makes each change it acknowledges durable itself, with a CHECKPOINT SYNC that the changes
     * made meanwhile share ({@link JdbcMetadataStore}).
     */
    public static String embeddedH2(Path dir) {
        return "jdbc:h2:file:" + dir.toAbsolutePath().normalize().resolve(H2_DATABASE_NAME)
                + ";WRITE_DELAY=500;DB_CLOSE_ON_EXIT=FALSE";
    }

    /** The directory of an embedded H2 database's files ({@code jdbc:h2:file:...}), or empty for a served one. */
    public static Optional<Path> embeddedH2Directory(String jdbcUrl) {
        String prefix = "jdbc:h2:file:";
        if (!jdbcUrl.startsWith(prefix)) {
            return Optional.empty();
        }
        String file = jdbcUrl.substring(prefix.length()).split(";", 2)[0];
        return Optional.ofNullable(Path.of(file).toAbsolutePath().getParent());
    }

    /** The URL without a password, for logs. */
    public static String redact(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
