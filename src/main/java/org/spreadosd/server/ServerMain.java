package org.spreadosd.server;

import com.typesafe.config.Config;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/** Runs a server command: parses options, starts the node, waits until it is stopped. */
final class ServerMain {
    private ServerMain() {}

    static int run(Object command, String[] args) {
        CommandLine cli = new CommandLine(command);
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof StartupException) {
                cmd.getErr().println(cmd.getCommandName() + ": cannot start: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }

    static int runUntilStopped(ServerOptions options, Supplier<Config> commandLine) {
        options.configureLogging();
        Logger log = LoggerFactory.getLogger(ServerMain.class);
        while (true) {
            SpreadNode node;
            try {
                node = SpreadNode.start(commandLine.get());
            } catch (StartupException e) {
                log.error("cannot start: {}", e.getMessage());
                throw e;
            }
            node.whenTerminated().toCompletableFuture().join();
            Optional<CoordinatedShutdown.Reason> reason =
                    CoordinatedShutdown.get(node.system()).getShutdownReason();
            if (reason.equals(Optional.of(CoordinatedShutdown.clusterDowningReason()))) {
                // The cluster downed this node (the split brain resolver, after a freeze or a cut link longer than
                // its stable-after): it can never rejoin as the same incarnation, but a new actor system on the same
                // ports, store and nid joins as a fresh member and the node serves again without an operator.
                log.warn("this node was downed by the cluster; starting it again as a new member");
                continue;
            }
            log.info("stopped");
            return 0;
        }
    }
}
