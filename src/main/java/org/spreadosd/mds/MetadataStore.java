package org.spreadosd.mds;

import java.util.List;
import java.util.Optional;
import java.util.function.IntSupplier;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionRecord;

/**
 * The metadata store (MDS): one row per version. Calls block on the database, so callers run them
 * on the metadata store's dispatcher ({@code spreadosd.mds-dispatcher}), never on an actor or stream thread.
 *
 * <p>An add is two steps: {@link #reserve} claims the next vtime of the key as a <em>pending</em>
 * row that no read can see, the data is then stored on the replication-set, and {@link #commit}
 * makes the version visible. Claiming the vtime first is what keeps vtimes unique when several
 * gateways add to one key at once, and the pending row tells the garbage scan where the bytes of
 * an add that died half-way may lie.
 */
public interface MetadataStore extends AutoCloseable {

    /**
     * Claims {@code max(now, mark + 1)} for a new version of the key, where the mark is the highest vtime the key
     * ever had: deleted versions, removal marks and abandoned adds included, so a new version never takes the name
     * of one a data server keeps a tombstone of. The rsid is inherited from the key's newest version; only a key
     * without versions asks {@code placement}.
     */
    ObjectKey reserve(byte[] key, IntSupplier placement);

    /** Makes a reserved version visible. */
    VersionRecord commit(ObjectKey reserved, byte[] vname, long size, int crc32c, String contentType, Attributes attrs);

    /** Drops a reservation whose data could not be stored; its vtime stays claimed (durably) for good. */
    void abandon(ObjectKey reserved);

    Optional<VersionRecord> find(byte[] key, Selector selector);

    /** Replaces the attributes of the newest version in place; empty when the key reads as not found. */
    Optional<ObjectKey> updateAttrs(byte[] key, Attributes attrs);

    /** Adds a removal mark on top of a live newest version; empty when there was nothing to remove. */
    Optional<ObjectKey> remove(byte[] key);

    /** Deletes the metadata row of the selected version and returns it, so its bytes can be deleted next. */
    Optional<VersionRecord> delete(byte[] key, Selector selector);

    /** Every visible, non-removal version of the key, newest first. */
    List<VersionRecord> versions(byte[] key);

    /** Reservations older than {@code createdBeforeMillis}: adds that never completed. */
    List<ObjectKey> stalePending(long createdBeforeMillis, int limit);

    /**
     * Whether any row, committed or still pending, names this version: bytes on a DS that no row names are
     * garbage left by an add that failed half-way.
     */
    boolean knows(byte[] key, long vtime);

    /** Number of committed rows (versions and removal marks). */
    long countVersions();

    /** A short description for logs and {@code stat}: the JDBC URL without credentials. */
    String describe();

    @Override
    void close();
}
