package org.spreadosd.mds;

/** The few places where H2 and PostgreSQL spell the one schema differently. */
enum SqlDialect {
    H2("VARBINARY(%d)"),
    POSTGRESQL("BYTEA");

    private final String binaryType;

    SqlDialect(String binaryType) {
        this.binaryType = binaryType;
    }

    String binary(int maxLength) {
        return binaryType.formatted(maxLength);
    }

    static SqlDialect of(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:h2:")) {
            return H2;
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException(
                "unsupported metadata store URI " + jdbcUrl + ": use an H2 path, jdbc:h2:... or jdbc:postgresql://...");
    }
}
