package org.spreadosd.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.spreadosd.util.DurableFiles;

/**
 * The last cluster configuration a node was told, kept on its own disk ({@code <store>/cluster-config.json}):
 * a node that restarts while no config server is up starts from it, and a restarted config server finds
 * the members to rejoin through it.
 */
public final class ConfigCopy {
    public static final String FILE_NAME = "cluster-config.json";
    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path file;
    private final DurableFiles files;

    public ConfigCopy(Path store) {
        this(store, DurableFiles.DISK);
    }

    public ConfigCopy(Path store, DurableFiles files) {
        this.file = store.resolve(FILE_NAME);
        this.files = files;
    }

    public boolean exists() {
        return Files.exists(file);
    }

    /** The saved configuration; empty when there is none or it cannot be read (then it is ignored, with a warning). */
    public Optional<ClusterConfig> load(Logger log) {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), ClusterConfig.class));
        } catch (IOException e) {
            log.warn("ignoring the saved cluster configuration {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    /** Replaces the saved copy atomically (temp file, fsync, rename, directory fsync); a failure is logged, serving goes on. */
    public void save(ClusterConfig config, Logger log) {
        try {
            files.replace(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        } catch (IOException e) {
            log.warn("cannot save the cluster configuration to {}: {}", file, e.getMessage());
        }
    }
}
