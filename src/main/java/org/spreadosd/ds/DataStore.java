package org.spreadosd.ds;

import static org.spreadosd.util.DurableFiles.writeFully;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Keys;
import org.spreadosd.model.VersionId;
import org.spreadosd.util.DurableFiles;

/**
 * The bytes of the versions a DS holds: one file per version under {@code <store>/data}.
 *
 * <p>A file's path is derived from SHA-256 of (vtime, key), never from the key's text, because keys
 * are arbitrary bytes. A version is written to {@code <store>/tmp}, fsynced, renamed into place and
 * its directory fsynced, so a crash leaves the whole version or none of it. Every directory on the way is
 * created durably too ({@link DurableFiles#createDirectories}): a version's rename into a directory whose
 * own entry a crash could take back would be lost with it.
 */
public final class DataStore {
    private static final Logger log = LoggerFactory.getLogger(DataStore.class);
    /**
     * The dispatcher (reference.conf) that calls into a store run on: they wait on the disk (writes, fsyncs,
     * listings, reads), so they get threads of their own, apart from the metadata store's and from the actors'.
     */
    public static final String DISPATCHER = "spreadosd.disk-dispatcher";

    private static final int COPY_BUFFER = 256 * 1024;
    /** A deleted version leaves a tombstone, a header-only file, so no peer's copy can bring it back. */
    static final String TOMBSTONE = ".deleted";

    private final Path dataDir;
    private final Path tmpDir;
    private final long maxObjectBytes;
    /** Versions stored here; counted once at open, then kept current by writes and deletes. */
    private final AtomicLong items = new AtomicLong();

    private final Path logDir;
    private final DurableFiles files;
    /** A version's rename into place and its deletion take the same lock, so a copy can never land after its tombstone. */
    private final ReentrantLock[] versionLocks = new ReentrantLock[64];

    private final ConcurrentMap<Integer, UpdateLog> logs = new ConcurrentHashMap<>();
    private final StoreSpace space;

    public DataStore(Path root, long maxObjectBytes) throws IOException {
        this(root, maxObjectBytes, null);
    }

    /** @param logDir where the update logs live; null means {@code <root>/ulog} */
    public DataStore(Path root, long maxObjectBytes, Path logDir) throws IOException {
        this(root, maxObjectBytes, logDir, DurableFiles.DISK);
    }

    /** @param files how this store makes its files and directories durable */
    public DataStore(Path root, long maxObjectBytes, Path logDir, DurableFiles files) throws IOException {
        this(root, maxObjectBytes, logDir, files, 0, 0);
    }

    /**
     * @param freeSpaceReserve new versions are refused while less than this is free on the store's disk
     * @param heldBackSpace spare space held back in the store for deletes on a full disk ({@link StoreSpace})
     */
    public DataStore(
            Path root, long maxObjectBytes, Path logDir, DurableFiles files, long freeSpaceReserve, long heldBackSpace)
            throws IOException {
        this.files = files;
        this.dataDir = root.resolve("data");
        this.tmpDir = root.resolve("tmp");
        this.logDir = logDir != null ? logDir : root.resolve("ulog");
        for (int i = 0; i < versionLocks.length; i++) {
            versionLocks[i] = new ReentrantLock();
        }
        this.maxObjectBytes = maxObjectBytes;
        files.createDirectories(dataDir);
        files.createDirectories(tmpDir);
        if (!Files.isWritable(dataDir) || !Files.isWritable(tmpDir)) {
            throw new AccessDeniedException(root.toString(), null, "store directory is not writable");
        }
        files.createDirectories(this.logDir);
        clearTemporaryFiles();
        items.set(countStoredFiles());
        this.space = new StoreSpace(root, freeSpaceReserve, heldBackSpace);
    }

    /** The free space of the store's disk, which refuses new versions below its reserve. */
    public StoreSpace space() {
        return space;
    }

    public Path root() {
        return dataDir.getParent();
    }

    public Path logDir() {
        return logDir;
    }

    /** How this store makes files durable; what else keeps files beside it (log positions) uses the same. */
    public DurableFiles files() {
        return files;
    }

    /** The update log of a replication-set on this DS, opened (or created empty) on first use. */
    public UpdateLog updateLog(int rsid) throws IOException {
        try {
            return logs.computeIfAbsent(rsid, r -> {
                try {
                    return UpdateLog.open(logDir.resolve(r + ".log"), files);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The replication-sets this store holds data or a log of. */
    public SortedSet<Integer> storedRsids() throws IOException {
        SortedSet<Integer> out = new TreeSet<>(logs.keySet());
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(dataDir)) {
            for (Path d : dirs) {
                try {
                    out.add(Integer.parseInt(d.getFileName().toString()));
                } catch (NumberFormatException ignored) {
                    // not a set's directory
                }
            }
        }
        return out;
    }

    public long maxObjectBytes() {
        return maxObjectBytes;
    }

    /** The refusal of an upload beyond {@code spreadosd.ds.max-object-size}: answered with 413, nothing kept. */
    static SpreadFailure tooLarge(long size, long max) {
        return new SpreadFailure(
                FailureCode.TOO_LARGE,
                "object of " + size + " bytes or more exceeds the maximum object size of " + max + " bytes");
    }

    /** The number of versions this data store holds ({@code stat db_items}, {@code spreadctl items}). */
    public long items() {
        return items.get();
    }

    private long countStoredFiles() throws IOException {
        try (var files = Files.walk(dataDir)) {
            return files.filter(p -> Files.isRegularFile(p)
                            && !p.getFileName().toString().endsWith(TOMBSTONE))
                    .count();
        }
    }

    /** Partial writes of a previous run are garbage: no metadata can point at them. */
    private void clearTemporaryFiles() throws IOException {
        try (DirectoryStream<Path> parts = Files.newDirectoryStream(tmpDir)) {
            for (Path p : parts) {
                Files.deleteIfExists(p);
                log.info("removed partial write left by a previous run: {}", p.getFileName());
            }
        }
    }

    public Path pathOf(VersionId v) {
        return pathOf(dataDir.getParent(), v);
    }

    /** Where a version lives in the store at {@code root}, without opening that store. */
    public static Path pathOf(Path root, VersionId v) {
        String name = HexFormat.of().formatHex(digest(v.key(), v.vtime()));
        return root.resolve("data")
                .resolve(Integer.toString(v.rsid()))
                .resolve(name.substring(0, 2))
                .resolve(name.substring(2, 4))
                .resolve(name);
    }

    /**
     * Stores one version from a stream and answers only once it is durable.
     *
     * @param expectedSize the Content-Length the sender announced, or -1 when it streams without one
     */
    public StoredBlob write(VersionId v, String contentType, InputStream in, long expectedSize) throws IOException {
        return write(v, contentType, in, expectedSize, null);
    }

    /**
     * Stores one version whose checksum its sender announced (a copy from a peer): bytes that do not match it
     * are refused before the rename, so a damaged copy never enters the store or the update log.
     *
     * @param expectedCrc the CRC-32C the sender announced, or null when it announced none
     * @throws SpreadFailure {@link FailureCode#CORRUPT} when the bytes received do not match {@code expectedCrc}
     */
    public StoredBlob write(VersionId v, String contentType, InputStream in, long expectedSize, Integer expectedCrc)
            throws IOException {
        try (PendingWrite pending = begin(v, contentType, expectedSize, expectedCrc)) {
            byte[] buf = new byte[COPY_BUFFER];
            int n;
            while ((n = in.read(buf)) >= 0) {
                pending.append(ByteBuffer.wrap(buf, 0, n));
            }
            return pending.finish();
        }
    }

    /**
     * Starts storing one version whose bytes come in pieces ({@link PendingWrite#append}), for a caller that
     * writes each piece as it arrives instead of waiting for the next one on a thread: refused at once when
     * the announced size is over the limit or the version is stored or deleted already.
     *
     * @param expectedSize the length the sender announced, or -1 when it announced none
     * @param expectedCrc the CRC-32C the sender announced, or null when it announced none
     */
    public PendingWrite begin(VersionId v, String contentType, long expectedSize, Integer expectedCrc)
            throws IOException {
        if (expectedSize > maxObjectBytes) {
            throw tooLarge(expectedSize, maxObjectBytes);
        }
        space.refuseAddsWhenLow();
        Path target = pathOf(v);
        if (Files.exists(target)) {
            throw new SpreadFailure(
                    FailureCode.ALREADY_STORED,
                    "version " + v.vtime() + " of " + Keys.printable(v.key()) + " is already stored");
        }
        if (Files.exists(tombstoneOf(target))) {
            throw new SpreadFailure(
                    FailureCode.DELETED, "version " + v.vtime() + " of " + Keys.printable(v.key()) + " was deleted");
        }
        BlobHeader placeholder =
                new BlobHeader(v.key(), v.vtime(), v.rsid(), 0, 0, System.currentTimeMillis(), contentType);
        return new PendingWrite(
                this, tmpDir.resolve(UUID.randomUUID() + ".part"), target, placeholder, expectedSize, expectedCrc);
    }

    /**
     * Makes a forced temp file a stored version: under the version's lock, unless the version was deleted or
     * stored meanwhile, it is renamed into place (its directories created durably) and logged.
     */
    void commit(Path forcedTmp, Path target, BlobHeader header) throws IOException {
        files.createDirectories(target.getParent());
        var lock = lockOf(target);
        lock.lock();
        try {
            String version = "version " + header.vtime() + " of " + Keys.printable(header.key());
            if (Files.exists(tombstoneOf(target))) {
                throw new SpreadFailure(FailureCode.DELETED, version + " was deleted");
            }
            // rename(2) replaces silently: two copies of one version arriving at once (a forward and a pull)
            // are told apart here, under the version's lock.
            if (Files.exists(target)) {
                throw new SpreadFailure(FailureCode.ALREADY_STORED, version + " is already stored");
            }
            files.moveIntoPlace(forcedTmp, target);
            items.incrementAndGet();
            updateLog(header.rsid())
                    .append(UpdateLog.Op.PUT, header.vtime(), header.key(), header.size(), header.crc32c());
        } finally {
            lock.unlock();
        }
    }

    public Optional<StoredBlob> find(VersionId v) throws IOException {
        try {
            return Optional.of(read(pathOf(v), h -> names(h, v)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * A stream of {@code length} bytes of the version from {@code offset}. A read of the whole version
     * verifies its checksum and fails at the end instead of completing when the bytes are corrupt.
     */
    public InputStream open(StoredBlob blob, long offset, long length) throws IOException {
        boolean whole = offset == 0 && length == blob.size();
        return new BlobInputStream(
                FileChannel.open(blob.path(), StandardOpenOption.READ),
                blob.dataOffset() + offset,
                length,
                whole ? blob.header().crc32c() : null,
                blob.path());
    }

    /** Reads the whole version and checks its checksum; throws a {@link FailureCode#CORRUPT} failure when the bytes are damaged. */
    public void verify(StoredBlob blob) throws IOException {
        try (InputStream in = open(blob, 0, blob.size())) {
            in.transferTo(OutputStream.nullOutputStream());
        }
    }

    /**
     * Deletes a version for good: a tombstone is written first, then the bytes go, then the delete is
     * logged, so a member that missed it learns of it and a peer's copy can never bring it back. Answers
     * whether bytes were deleted; a version never stored here still gets its tombstone.
     */
    public boolean delete(VersionId v) throws IOException {
        Path path = pathOf(v);
        var lock = lockOf(path);
        lock.lock();
        try {
            return deleteLocked(v, path);
        } finally {
            lock.unlock();
        }
    }

    private ReentrantLock lockOf(Path path) {
        return versionLocks[Math.floorMod(path.getFileName().hashCode(), versionLocks.length)];
    }

    private boolean deleteLocked(VersionId v, Path path) throws IOException {
        Path tombstone = tombstoneOf(path);
        if (Files.exists(tombstone)) {
            return dropBytes(path);
        }
        files.createDirectories(path.getParent());
        Path tmp = tmpDir.resolve(UUID.randomUUID() + ".part");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                BlobHeader tombstoneHeader =
                        new BlobHeader(v.key(), v.vtime(), v.rsid(), 0, 0, System.currentTimeMillis(), null);
                writeFully(ch, tombstoneHeader.encode(), 0);
                files.force(ch);
            }
            // the directory is forced once, by dropBytes, for the tombstone and the bytes' removal together
            Files.move(tmp, tombstone, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        boolean deleted = dropBytes(path);
        updateLog(v.rsid()).append(UpdateLog.Op.DELETE, v.vtime(), v.key(), 0, 0);
        return deleted;
    }

    private boolean dropBytes(Path path) throws IOException {
        boolean deleted = Files.deleteIfExists(path);
        files.forceDirectory(path.getParent());
        if (deleted) {
            items.decrementAndGet();
        }
        return deleted;
    }

    public boolean isDeleted(VersionId v) {
        return Files.exists(tombstoneOf(pathOf(v)));
    }

    /**
     * Moves a damaged version's file aside ({@code <store>/quarantine}) so that it can be fetched again from
     * a peer; the damaged bytes are kept for the operator to look at.
     */
    public void quarantine(VersionId v) throws IOException {
        quarantine(pathOf(v));
    }

    /** Moves a damaged file aside, also one whose header is too damaged to name its version. */
    public void quarantine(Path file) throws IOException {
        Path aside = root().resolve("quarantine").resolve(file.getFileName() + "." + System.currentTimeMillis());
        files.createDirectories(aside.getParent());
        try {
            // forced where it arrives first: a crash must not leave the damaged bytes in neither directory
            files.moveIntoPlace(file, aside);
            files.forceDirectory(file.getParent());
            items.decrementAndGet();
            log.warn("quarantined damaged file {} as {}", file.getFileName(), aside);
        } catch (NoSuchFileException gone) {
            // already moved or deleted
        }
    }

    /** Every version file of a set (not tombstones), for the scrub. */
    public Stream<Path> versionFiles(int rsid) throws IOException {
        Path dir = dataDir.resolve(Integer.toString(rsid));
        if (!Files.isDirectory(dir)) {
            return Stream.empty();
        }
        return Files.walk(dir)
                .filter(p ->
                        Files.isRegularFile(p) && !p.getFileName().toString().endsWith(TOMBSTONE));
    }

    /**
     * Reads and checks the header of a version file: the version it names must be the one its path stands
     * for, and the file as long as the header says.
     */
    public StoredBlob readStored(Path file) throws IOException {
        return read(file, h -> file.equals(pathOf(new VersionId(h.rsid(), h.key(), h.vtime()))));
    }

    private StoredBlob read(Path file, Predicate<BlobHeader> namesThisFile) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return checkedHeader(ch, file, namesThisFile);
        }
    }

    private static StoredBlob checkedHeader(FileChannel ch, Path file, Predicate<BlobHeader> namesThisFile)
            throws IOException {
        BlobHeader header = BlobHeader.read(ch);
        if (!namesThisFile.test(header)) {
            throw new SpreadFailure(FailureCode.CORRUPT, "blob " + file.getFileName() + " holds another version");
        }
        if (ch.size() != header.length() + header.size()) {
            throw new SpreadFailure(
                    FailureCode.CORRUPT,
                    "blob " + file.getFileName() + " is " + ch.size() + " bytes long, header says "
                            + (header.length() + header.size()));
        }
        return new StoredBlob(file, header);
    }

    /** A version found by {@link #load}: its bytes are there when it was small enough to be read whole. */
    public record Loaded(StoredBlob blob, byte[] body) {}

    /**
     * Finds a version and, when it is at most {@code wholeUpTo} bytes, reads it whole through the same open
     * file and checks its checksum, so a small read costs one open and one pass over the bytes.
     *
     * @throws SpreadFailure {@link FailureCode#CORRUPT} when the bytes read do not match the checksum
     */
    public Optional<Loaded> load(VersionId v, long wholeUpTo) throws IOException {
        Path file = pathOf(v);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            StoredBlob blob = checkedHeader(ch, file, h -> names(h, v));
            if (blob.size() > wholeUpTo) {
                return Optional.of(new Loaded(blob, null));
            }
            byte[] body = new byte[(int) blob.size()];
            ByteBuffer buf = ByteBuffer.wrap(body);
            while (buf.hasRemaining()) {
                if (ch.read(buf, blob.dataOffset() + buf.position()) < 0) {
                    throw new SpreadFailure(FailureCode.CORRUPT, "blob " + file.getFileName() + " ended early");
                }
            }
            CRC32C crc = new CRC32C();
            crc.update(body);
            if ((int) crc.getValue() != blob.header().crc32c()) {
                throw new SpreadFailure(
                        FailureCode.CORRUPT, "blob " + file.getFileName() + " does not match its checksum");
            }
            return Optional.of(new Loaded(blob, body));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Whether a header read from a version's path is that version's (not another's left there by damage). */
    private static boolean names(BlobHeader h, VersionId v) {
        return h.vtime() == v.vtime() && Arrays.equals(h.key(), v.key());
    }

    private static Path tombstoneOf(Path path) {
        return path.resolveSibling(path.getFileName() + TOMBSTONE);
    }

    /** Looking a digest up in the security providers costs more than hashing a key; each thread keeps one. */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private static byte[] digest(byte[] key, long vtime) {
        MessageDigest md = SHA256.get();
        md.reset();
        md.update(ByteBuffer.allocate(8).putLong(vtime).array());
        md.update(key);
        return md.digest();
    }
}
