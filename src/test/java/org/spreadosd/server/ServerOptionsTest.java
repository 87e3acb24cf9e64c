package org.spreadosd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Command-line options of spread-standalone override the --config file, which overrides reference.conf. */
class ServerOptionsTest {
    @TempDir
    Path dir;

    static NodeSettings settings(String... args) {
        SpreadStandalone cmd = new SpreadStandalone();
        new CommandLine(cmd).parseArgs(args);
        return NodeSettings.from(cmd.config().withFallback(ConfigFactory.load()));
    }

    @Test
    void defaultsDeriveThePortsFromTheBasePort() {
        NodeSettings s = settings();
        assertEquals(18900, s.rpcPort());
        assertEquals(19900, s.dataPort());
        assertEquals(20900, s.clusterPort());
        assertEquals(21900, s.managementPort());
        assertEquals(-1, s.httpPort());
        assertEquals("subnet-127.000.000", s.location());
        assertEquals("ds0", s.name());
    }

    @Test
    void theMetadataStoresThreadsFollowItsConnectionPoolUnlessSet() {
        assertEquals(16, settings().mdsThreads());
        assertEquals(
                5,
                NodeSettings.from(ConfigFactory.parseString("spreadosd.mds-pool-size = 5")
                                .withFallback(ConfigFactory.load()))
                        .mdsThreads());
        assertEquals(
                3,
                NodeSettings.from(ConfigFactory.parseString(
                                        "spreadosd.mds-dispatcher.thread-pool-executor.fixed-pool-size = 3")
                                .withFallback(ConfigFactory.load()))
                        .mdsThreads());
    }

    @Test
    void optionsWin() {
        NodeSettings s = settings(
                "-s",
                dir.toString(),
                "-t",
                "18080",
                "-p",
                "28900",
                "-i",
                "3",
                "-g",
                "1, 2",
                "-L",
                "dc-east",
                "-R",
                "--data-port",
                "5000",
                "-l",
                "127.0.0.1");
        assertEquals(dir.toAbsolutePath().normalize(), s.store());
        assertEquals(18080, s.httpPort());
        assertEquals(5000, s.dataPort(), "an explicit data port replaces the derived one");
        assertEquals(30900, s.clusterPort());
        assertEquals(3, s.nid());
        assertEquals("ds3", s.name());
        assertEquals(List.of(1, 2), s.rsids());
        assertEquals("dc-east", s.location());
        assertEquals("127.0.0.1", s.listenHost());
        assertTrue(s.mode().refusesWrites());
    }

    @Test
    void aConfigFileSetsWhatOptionsLeaveOpen() throws Exception {
        Path file = dir.resolve("node.conf");
        Files.writeString(
                file, "spreadosd { http-port = 7070, location = \"from-file\", read-only-time = 1700000000 }");
        NodeSettings fromFile = settings("--config", file.toString());
        assertEquals(7070, fromFile.httpPort());
        assertEquals("from-file", fromFile.location());
        assertEquals(1_700_000_000L, fromFile.mode().snapshotTime());
        NodeSettings overridden = settings("--config", file.toString(), "-t", "8080");
        assertEquals(8080, overridden.httpPort());
    }

    static NodeSettings of(Object command, Supplier<Config> config, String... args) {
        new CommandLine(command).parseArgs(args);
        return NodeSettings.from(config.get().withFallback(ConfigFactory.load()));
    }

    @Test
    void aDataServerDerivesItsPortsFromItsAddressAndJoinsThroughTheConfigServer() {
        SpreadDs ds = new SpreadDs();
        NodeSettings s =
                of(ds, ds::config, "--cs", "10.0.0.1", "--address", "10.0.0.5:18903", "--nid", "3", "--rsid", "1");
        assertEquals("10.0.0.5", s.advertiseHost());
        assertEquals(18903, s.rpcPort());
        assertEquals(19903, s.dataPort());
        assertEquals(20903, s.clusterPort());
        assertEquals(List.of("10.0.0.1:20700"), s.seedNodes(), "the CS's RPC port 18700 + 2000");
        assertEquals(Set.of("ds", "gw"), s.roles());
        assertEquals("subnet-010.000.000", s.location());
        assertTrue(s.store().endsWith("data-ds3"), s.store()::toString);
        assertEquals("10.0.0.5:20903", s.nodeInfo().clusterAddress());
        assertEquals(null, s.ulog(), "update logs under the store by default");
        assertEquals(Duration.ofSeconds(1), s.replication().pollInterval());
        NodeSettings withLog = of(ds, ds::config, "--cs", "10.0.0.1", "--nid", "3", "-u", "/var/spread/ulog");
        assertEquals(Path.of("/var/spread/ulog"), withLog.ulog());
    }

    @Test
    void aGatewayAndAConfigServerHaveTheirOwnDefaultPorts() {
        SpreadGw gw = new SpreadGw();
        NodeSettings g = of(gw, gw::config, "--cs", "cs.example:28700", "--http", "18090");
        assertEquals(18800, g.rpcPort());
        assertEquals(20800, g.clusterPort());
        assertEquals(List.of("cs.example:30700"), g.seedNodes());
        assertEquals(Set.of("gw"), g.roles());
        SpreadCs cs = new SpreadCs();
        NodeSettings c = of(cs, cs::config, "--journal", "jdbc:postgresql://db/spread");
        assertEquals(18700, c.rpcPort());
        assertEquals(19700, c.dataPort(), "where the CS serves its embedded metadata database");
        assertEquals(List.of(), c.seedNodes(), "a CS forms the cluster (or rejoins the members it knew)");
        assertEquals("jdbc:postgresql://db/spread", c.csJournal());
        assertTrue(c.store().endsWith("data-cs"), c.store()::toString);
    }

    @Test
    void aBadPortIsAUsageErrorNamingIt() {
        CommandLine.ParameterException e =
                Assertions.assertThrows(CommandLine.ParameterException.class, () -> settings("-l", "127.0.0.1:abc"));
        assertEquals("not a port number: 'abc'", e.getMessage());
        assertEquals(443, ServerOptions.port("443"));
    }
}
