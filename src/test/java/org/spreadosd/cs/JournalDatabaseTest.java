package org.spreadosd.cs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.NodeInfo;
import org.spreadosd.testing.PostgresServer;

/** The config server's journal in a real database: created once, and a new config server recovers from it. */
class JournalDatabaseTest {
    @TempDir
    Path dir;

    @Test
    void aConfigServerRecoversFromAPostgresJournal() throws Exception {
        String url = PostgresServer.freshDatabase("spread_journal_test");
        ClusterConfig before = recoverTwice(JournalDatabase.of(url, dir));
        try (Connection c = DriverManager.getConnection(url);
                ResultSet rs = c.createStatement()
                        .executeQuery("SELECT COUNT(*) FROM event_journal WHERE persistence_id = 'spread-config'")) {
            rs.next();
            assertEquals(before.revision(), rs.getLong(1), "one journal row per configuration change");
        }
    }

    @Test
    void aConfigServerRecoversFromAnH2Journal() {
        ClusterConfig recovered = recoverTwice(JournalDatabase.of("", dir.resolve("cs")));
        assertEquals(2, recovered.revision());
    }

    @Test
    void anUnsupportedJournalIsRefusedByName() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> JournalDatabase.of("mysql://db/spread?password=secret", dir));
        assertTrue(e.getMessage().contains("unsupported journal URI 'mysql://db/spread?password=***'"), e.getMessage());
    }

    /** Writes two changes with one config server, then checks a second one (a new actor system) rebuilds them. */
    private ClusterConfig recoverTwice(JournalDatabase journal) {
        journal.createSchemaIfMissing();
        journal.createSchemaIfMissing();
        ClusterConfig written;
        ActorTestKit first = kit(journal);
        try {
            ActorRef<ConfigServer.Command> cs = first.spawn(
                    ConfigServer.create(ConfigServer.PERSISTENCE_ID, address -> false, ConfigServerTest.BACKOFF));
            TestProbe<ConfigServer.Registered> registered = first.createTestProbe();
            cs.tell(new ConfigServer.RegisterNode(
                    new NodeInfo(4, "ds4", "127.0.0.1:18904", List.of(2), "here", "http://x", null),
                    registered.getRef()));
            assertEquals(null, registered.receiveMessage().refusal());
            TestProbe<StatusReply<ClusterConfig>> probe = first.createTestProbe();
            cs.tell(new ConfigServer.SetWeight(2, 40, probe.getRef()));
            written = probe.receiveMessage().getValue();
        } finally {
            first.shutdownTestKit();
        }
        ActorTestKit second = kit(journal);
        try {
            ActorRef<ConfigServer.Command> cs = second.spawn(
                    ConfigServer.create(ConfigServer.PERSISTENCE_ID, address -> false, ConfigServerTest.BACKOFF));
            TestProbe<ClusterConfig> probe = second.createTestProbe();
            cs.tell(new ConfigServer.GetConfig(probe.getRef()));
            ClusterConfig recovered = probe.receiveMessage();
            assertEquals(written, recovered);
            assertEquals(40, recovered.weight(2));
            return recovered;
        } finally {
            second.shutdownTestKit();
        }
    }

    private static ActorTestKit kit(JournalDatabase journal) {
        return ActorTestKit.create(journal.pekkoConfig()
                .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
                .withFallback(ConfigFactory.load()));
    }
}
