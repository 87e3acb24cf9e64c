package org.spreadosd.mds;

import java.util.List;
import java.util.Optional;
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
 */
public final class SwitchingMetadataStore implements MetadataStore {
    private static final Logger log = LoggerFactory.getLogger(SwitchingMetadataStore.class);
    /** How long calls that started on the old store get to finish before it closes. */
    private static final long CLOSE_OLD_AFTER_SECONDS = 60;

    private final Function<String, MetadataStore> opener;
    private final Executor closer;
    private volatile MetadataStore current;
    private volatile String currentUrl;

    /**
     * @param opener opens a store from a JDBC URL (and fails if it cannot)
     * @param closer where an old store is closed, after the grace period
     */
    public SwitchingMetadataStore(String jdbcUrl, Function<String, MetadataStore> opener, Executor closer) {
        this.opener = opener;
        this.closer = closer;
        this.current = opener.apply(jdbcUrl);
        this.currentUrl = jdbcUrl;
    }

    /** Switches to {@code jdbcUrl} unless it is the current one; if the new store cannot be opened, the old one stays. */
    public synchronized void switchTo(String jdbcUrl) {
        if (jdbcUrl.equals(currentUrl)) {
            return;
        }
        MetadataStore next;
        try {
            next = opener.apply(jdbcUrl);
        } catch (RuntimeException e) {
            log.error(
                    "cannot switch the metadata store to {}: {}; still using {}",
                    MdsUri.redact(jdbcUrl),
                    e.getMessage(),
                    describe());
            return;
        }
        MetadataStore old = current;
        current = next;
        currentUrl = jdbcUrl;
        log.info("metadata store switched from {} to {}", old.describe(), next.describe());
        java.util.concurrent.CompletableFuture.runAsync(
                old::close,
                java.util.concurrent.CompletableFuture.delayedExecutor(
                        CLOSE_OLD_AFTER_SECONDS, TimeUnit.SECONDS, closer));
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
        current.close();
    }
}
