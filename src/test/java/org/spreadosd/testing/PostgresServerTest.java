package org.spreadosd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The throwaway server answers queries and accepts DDL; the same URL comes back on every call. */
class PostgresServerTest {
    @Test
    void serverAnswersQueriesAndDdl() throws Exception {
        String url = PostgresServer.requireJdbcUrl();
        assertEquals(url, PostgresServer.requireJdbcUrl(), "started once per JVM");
        String table = "t_" + Long.toHexString(System.nanoTime());
        try (Connection c = DriverManager.getConnection(url);
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("select 1")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                assertFalse(rs.next());
            }
            // A unique name, so the test also passes against a shared server given by SPREAD_TEST_PG_URL.
            s.execute("create table " + table + "(x int)");
            try {
                s.execute("insert into " + table + " values (42)");
                try (ResultSet rs = s.executeQuery("select x from " + table)) {
                    assertTrue(rs.next());
                    assertEquals(42, rs.getInt(1));
                }
            } finally {
                s.execute("drop table " + table);
            }
        }
    }
}
