package org.spreadosd.ds.replication;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;
import org.spreadosd.util.DurableFiles;

/**
 * How far this DS has applied each peer's update log (the original's relay timestamps), one small file per
 * (set, peer) beside the update logs, replaced atomically after every applied batch. No file means the
 * peer's data was never copied here: the member bootstraps from the peer's inventory first.
 */
public final class LogPositions {
    private final Path dir;
    private final DurableFiles files;

    public LogPositions(Path logDir) {
        this(logDir, DurableFiles.DISK);
    }

    public LogPositions(Path logDir, DurableFiles files) {
        this.dir = logDir;
        this.files = files;
    }

    public Optional<Position> load(int rsid, int peerNid) throws IOException {
        Path file = file(rsid, peerNid);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(ReplicaProtocol.JSON.readValue(file.toFile(), Position.class));
    }

    public void save(int rsid, int peerNid, Position position) throws IOException {
        files.replace(file(rsid, peerNid), ReplicaProtocol.JSON.writeValueAsBytes(position));
    }

    private Path file(int rsid, int peerNid) {
        return dir.resolve(rsid + ".from-" + peerNid + ".json");
    }
}
