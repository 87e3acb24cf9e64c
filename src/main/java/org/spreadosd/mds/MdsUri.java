package org.spreadosd.mds;

import java.nio.file.Path;

/**
 * Turns what an operator gives as {@code --mds} into a JDBC URL: a JDBC URL is taken as it is,
 * anything else is a directory for an embedded H2 database.
 */
public final class MdsUri {
    private MdsUri() {}

    public static String toJdbcUrl(String uri) {
        if (uri.startsWith("jdbc:")) {
            return uri;
        }
        String dir = uri.startsWith("h2:") ? uri.substring(3) : uri;
        return embeddedH2(Path.of(dir));
    }

    /**
     * WRITE_DELAY=0 makes H2 write every commit to its file before answering, so an acknowledged add
     * survives a process crash.
     */
    public static String embeddedH2(Path dir) {
        return "jdbc:h2:file:" + dir.toAbsolutePath().normalize().resolve("spread") + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
    }

    /** The URL without a password, for logs. */
    public static String redact(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }
}
