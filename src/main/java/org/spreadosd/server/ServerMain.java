package org.spreadosd.server;

import com.typesafe.config.Config;
import java.util.function.Supplier;
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
        SpreadNode node;
        try {
            node = SpreadNode.start(commandLine.get());
        } catch (StartupException e) {
            log.error("cannot start: {}", e.getMessage());
            throw e;
        }
        node.whenTerminated().toCompletableFuture().join();
        log.info("stopped");
        return 0;
    }
}
