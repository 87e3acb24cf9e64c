package org.spreadosd.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The server processes of one cluster on loopback, started from {@code scripts/} on free ports under one directory
 * (a config server, data servers, gateways) and stopped together: what the process tests of failures share.
 */
public final class ProcessCluster {
    private final Path dir;
    private final Map<String, String> env;
    private final List<SpreadProcess> started = new ArrayList<>();
    /** The config server's MessagePack-RPC port. */
    public final int csPort = FreePorts.base();

    /** @param env the environment of every process (e.g. {@code JAVA_OPTS}) */
    public ProcessCluster(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.env = env;
    }

    public SpreadProcess startCs() throws IOException {
        return start(
                "spread-cs",
                List.of(
                        "-p",
                        String.valueOf(csPort),
                        "-l",
                        "127.0.0.1",
                        "-s",
                        dir.resolve("cs").toString()));
    }

    /** A data server {@code ds<nid>} of set {@code rsid} on {@code port}, its store {@link #store}. */
    public SpreadProcess startDs(int nid, int rsid, int port) throws IOException {
        return start(
                "spread-ds",
                List.of(
                        "--cs",
                        "127.0.0.1:" + csPort,
                        "--address",
                        "127.0.0.1:" + port,
                        "--nid",
                        String.valueOf(nid),
                        "--rsid",
                        String.valueOf(rsid),
                        "--name",
                        "ds" + nid,
                        "--store",
                        store(nid).toString(),
                        "-l",
                        "127.0.0.1"));
    }

    public SpreadProcess startGw(int port, int httpPort) throws IOException {
        return start(
                "spread-gw",
                List.of(
                        "--cs",
                        "127.0.0.1:" + csPort,
                        "-p",
                        String.valueOf(port),
                        "--http",
                        String.valueOf(httpPort),
                        "-l",
                        "127.0.0.1",
                        "-s",
                        dir.resolve("gw").toString()));
    }

    /** Any server command of {@code scripts/}, stopped with the others. */
    public SpreadProcess start(String script, List<String> args) throws IOException {
        SpreadProcess p = SpreadProcess.command(dir, script, args, env, -1, -1);
        started.add(p);
        return p;
    }

    /** The store directory of data server {@code nid}. */
    public Path store(int nid) {
        return dir.resolve("ds" + nid);
    }

    /** Waits until every process started so far says it is ready. */
    public void awaitReady() throws InterruptedException {
        for (SpreadProcess p : started) {
            p.awaitLog("SpreadOSD node ready");
        }
    }

    /** Every process started, in order, restarted ones included. */
    public List<SpreadProcess> started() {
        return List.copyOf(started);
    }

    public void stopAll() {
        started.forEach(SpreadProcess::stop);
    }
}
