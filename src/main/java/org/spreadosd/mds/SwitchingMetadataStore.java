package org.spreadosd.mds;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionRecord;

/**
 * The metadata store a node uses, switched at run time when the cluster configuration names another one
 * ({@code spreadctl set_mds}). Calls already running finish on the old store, which closes a while later.
 *
 * <p>Switches are asked for with the configuration revision that names the store, from the thread that
 * delivers configurations, which must not wait for a database. They run one at a time off that thread, in
 * the order asked; an older revision asked for late is ignored, and a switch that a newer one has
 * overtaken while its store was opening is dropped, so the node ends on the store the newest
 * configuration names.
 */
public final class SwitchingMetadataStore implements MetadataStore {
    private static final Logger log = LoggerFactory.getLogger(SwitchingMetadataStore.class);
    /** How long calls that started on the old store get to finish before it closes. */
    private static final long CLOSE_OLD_AFTER_SECONDS = 60;

    private final Function<String, MetadataStore> opener;
    private final Executor blocking;
    private volatile MetadataStore current;
    private volatile String currentUrl;
    /** The newest revision a switch was asked for; guarded by this. */
    private long wantedRevision = Long.MIN_VALUE;
    /** The switches asked for, run one after another; guarded by this. */
    private CompletableFuture<Void> switches = CompletableFuture.completedFuture(null);
    /** Set once closed: a store a switch opens after that is closed at once. Guarded by this. */
    private boolean closed;

    /**
     * @param opener opens a store from a JDBC URL (and fails if it cannot)
     * @param blocking where stores are opened, and old ones closed after the grace period
     */
    public SwitchingMetadataStore(String jdbcUrl, Function<String, MetadataStore> opener, Executor blocking) {
        this.opener = opener;
        this.blocking = blocking;
        this.current = opener.apply(jdbcUrl);
        this.currentUrl = jdbcUrl;
    }

    /**
     * Switches, off the calling thread, to {@code jdbcUrl}, which the configuration of {@code revision}
     * names (empty: the node's own default, kept as it is). If the new store cannot be opened, the old one
     * stays.
     */
    public synchronized void switchTo(long revision, String jdbcUrl) {
        if (revision <= wantedRevision) {
            return;
        }
        wantedRevision = revision;
        if (jdbcUrl.isEmpty()) {
            return;
        }
        switches = switches.thenRunAsync(() -> switchNow(revision, jdbcUrl), blocking);
    }

    private synchronized boolean overtaken(long revision) {
        return revision < wantedRevision || closed;
    }

    private void switchNow(long revision, String jdbcUrl) {
        if (overtaken(revision) || jdbcUrl.equals(currentUrl)) {
            return;
        }
        MetadataStore next;
        try {
            next = opener.apply(jdbcUrl);
        } catch (RuntimeException e) {
            log.error(
                    "cannot switch the metadata store to {} (revision {}): {}; still using {}",
                    MdsUri.redact(jdbcUrl),
                    revision,
                    e.getMessage(),
                    describe());
            return;
        }
        if (overtaken(revision)) {
            log.info(
                    "metadata store {} of revision {} not used: a newer configuration names another, or the node stops",
                    next.describe(),
                    revision);
            next.close();
            return;
        }
        MetadataStore old = current;
        current = next;
        currentUrl = jdbcUrl;
        log.info("metadata store switched from {} to {} (revision {})", old.describe(), next.describe(), revision);
        CompletableFuture.runAsync(
                old::close, CompletableFuture.delayedExecutor(CLOSE_OLD_AFTER_SECONDS, TimeUnit.SECONDS, blocking));
    }

    public String currentUrl() {
        return currentUrl;
    }

    @Override
    public ObjectKey reserve(byte[] key, IntSupplier placement) {
        return current.reserve(key, placement);
    }

    @Override
    public VersionRecord commit(
            ObjectKey reserved, byte[] vname, long size, int crc32c, String contentType, Attributes attrs) {
        return current.commit(reserved, vname, size, crc32c, contentType, attrs);
    }

    @Override
    public void abandon(ObjectKey reserved) {
        current.abandon(reserved);
    }

    @Override
    public Optional<VersionRecord> find(byte[] key, Selector selector) {
        return current.find(key, selector);
    }

    @Override
    public Optional<ObjectKey> updateAttrs(byte[] key, Attributes attrs) {
        return current.updateAttrs(key, attrs);
    }

    @Override
    public Optional<ObjectKey> remove(byte[] key) {
        return current.remove(key);
    }

    @Override
    public Optional<VersionRecord> delete(byte[] key, Selector selector) {
        return current.delete(key, selector);
    }

    @Override
    public List<VersionRecord> versions(byte[] key) {
        return current.versions(key);
    }

    @Override
    public List<ObjectKey> stalePending(long createdBeforeMillis, int limit) {
        return current.stalePending(createdBeforeMillis, limit);
    }

    @Override
    public boolean knows(byte[] key, long vtime) {
        return current.knows(key, vtime);
    }

    @Override
    public long countVersions() {
        return current.countVersions();
    }

    @Override
    public String describe() {
        return current.describe();
    }

    @Override
    public synchronized void close() {
        closed = true;
        current.close();
    }
}
