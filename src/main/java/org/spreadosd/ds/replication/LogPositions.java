package org.spreadosd.ds.replication;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.spreadosd.ds.replication.ReplicaProtocol.Position;

/**
 * How far this DS has applied each peer's update log (the original's relay timestamps), one small file per
 * (set, peer) beside the update logs, replaced atomically after every applied batch. No file means the
 * peer's data was never copied here: the member bootstraps from the peer's inventory first.
 */
public final class LogPositions {
    private final Path dir;

    public LogPositions(Path logDir) {
        this.dir = logDir;
    }

    public Optional<Position> load(int rsid, int peerNid) throws IOException {
        Path file = file(rsid, peerNid);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        return Optional.of(ReplicaProtocol.JSON.readValue(file.toFile(), Position.class));
    }

    public void save(int rsid, int peerNid, Position position) throws IOException {
        Path file = file(rsid, peerNid);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, ReplicaProtocol.JSON.writeValueAsBytes(position));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private Path file(int rsid, int peerNid) {
        return dir.resolve(rsid + ".from-" + peerNid + ".json");
    }
}
