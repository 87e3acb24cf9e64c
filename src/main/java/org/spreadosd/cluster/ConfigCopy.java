package org.spreadosd.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.util.DurableFiles;

/**
 * The last cluster configuration a node was told, kept on its own disk ({@code <store>/cluster-config.json}):
 * a node that restarts while no config server is up starts from it, and a restarted config server finds
 * the members to rejoin through it.
 */
public final class ConfigCopy {
    public static final String FILE_NAME = "cluster-config.json";
    private static final Logger log = LoggerFactory.getLogger(ConfigCopy.class);
    private static final ObjectMapper JSON =
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path file;
    private final DurableFiles files;
    private final Executor saver;
    /** The newest configuration handed to {@link #saveLater} and not yet taken by a save. */
    private final AtomicReference<ClusterConfig> pending = new AtomicReference<>();
    /** Whether a save is queued or running on {@code saver}: at most one is, so saves never overtake each other. */
    private final AtomicBoolean saving = new AtomicBoolean();
    /** The revision last saved by {@link #saveLater}; touched by one save at a time. */
    private long savedRevision = -1;

    /** A copy whose saves run on the thread that asks for them. */
    public ConfigCopy(Path store) {
        this(store, DurableFiles.DISK, Runnable::run);
    }

    public ConfigCopy(Path store, DurableFiles files) {
        this(store, files, Runnable::run);
    }

    /** @param saver where {@link #saveLater} writes and fsyncs the copy (the disk dispatcher) */
    public ConfigCopy(Path store, DurableFiles files, Executor saver) {
        this.file = store.resolve(FILE_NAME);
        this.files = files;
        this.saver = saver;
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

    /**
     * Saves {@code config} on the saver without waiting for it, for an actor that must not wait on an fsync. Saves
     * run one at a time, in revision order: one that has not started yet gives way to a newer configuration (the
     * newest wins), and an older revision than the one saved is never written over it. A failure is logged.
     */
    public void saveLater(ClusterConfig config) {
        pending.accumulateAndGet(
                config, (queued, fresh) -> queued == null || fresh.revision() >= queued.revision() ? fresh : queued);
        startSaving();
    }

    private void startSaving() {
        if (pending.get() == null || !saving.compareAndSet(false, true)) {
            return;
        }
        try {
            saver.execute(() -> {
                try {
                    for (ClusterConfig next = pending.getAndSet(null); next != null; next = pending.getAndSet(null)) {
                        if (next.revision() >= savedRevision) {
                            save(next, log);
                            savedRevision = next.revision();
                        }
                    }
                } finally {
                    saving.set(false);
                }
                // one handed over after the last look and before the flag went down
                startSaving();
            });
        } catch (RejectedExecutionException stopping) {
            saving.set(false);
            ClusterConfig unsaved = pending.getAndSet(null);
            if (unsaved != null) {
                log.info("cluster configuration revision {} not saved: the node is stopping", unsaved.revision());
            }
        }
    }
}
