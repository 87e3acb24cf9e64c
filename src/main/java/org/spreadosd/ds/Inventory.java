package org.spreadosd.ds;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;

/**
 * What a DS holds of one replication-set, read from its files: every version and every tombstone, in the
 * order of their file names (SHA-256 of vtime and key, so the order is the same on every member). Peers
 * compare inventories to repair what the update logs missed, and a new member copies from one.
 */
public final class Inventory {
    /** One version as a member holds it; {@code deleted} for a tombstone. */
    public record Item(String name, byte[] key, long vtime, long size, int crc32c, boolean deleted) {}

    /** Versions are grouped in 256 buckets by the first byte of their name; a bucket's digest covers its items. */
    public static final int BUCKETS = 256;

    private final Path setDir;

    public Inventory(DataStore store, int rsid) {
        this.setDir = store.root().resolve("data").resolve(Integer.toString(rsid));
    }

    /** Up to {@code max} items whose names come after {@code after} (null: from the start). */
    public List<Item> list(String after, int max) throws IOException {
        List<Item> out = new ArrayList<>();
        String from = after == null ? "" : after;
        for (String xx : sortedNames(setDir)) {
            if (out.size() >= max) {
                break;
            }
            if (xx.compareTo(prefix(from, 2)) < 0) {
                continue;
            }
            for (String yy : sortedNames(setDir.resolve(xx))) {
                if (out.size() >= max) {
                    break;
                }
                if ((xx + yy).compareTo(prefix(from, 4)) < 0) {
                    continue;
                }
                collect(setDir.resolve(xx).resolve(yy), from, max, out);
            }
        }
        return out;
    }

    /** Every item of one bucket (two hex digits). */
    public List<Item> bucket(String bucket) throws IOException {
        List<Item> out = new ArrayList<>();
        Path dir = setDir.resolve(bucket);
        for (String yy : sortedNames(dir)) {
            collect(dir.resolve(yy), "", Integer.MAX_VALUE, out);
        }
        return out;
    }

    /** A digest per non-empty bucket; two members that hold the same versions and tombstones have equal digests. */
    public Map<String, String> digests() throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String xx : sortedNames(setDir)) {
            BucketDigest bucket = new BucketDigest();
            for (String yy : sortedNames(setDir.resolve(xx))) {
                versionsIn(setDir.resolve(xx).resolve(yy)).forEach(bucket::add);
            }
            if (!bucket.isEmpty()) {
                out.put(xx, bucket.hex());
            }
        }
        return out;
    }

    /**
     * The digest of one bucket: each version's file name and whether it is deleted, in name order. Anything that
     * answers for an inventory (a peer stand-in in a test, too) must digest the same way, or anti-entropy copies what
     * is there already.
     */
    public static final class BucketDigest {
        private final MessageDigest md = sha256();
        private boolean any;

        public void add(String name, boolean deleted) {
            md.update((name + (deleted ? "-" : "+")).getBytes(StandardCharsets.US_ASCII));
            any = true;
        }

        public boolean isEmpty() {
            return !any;
        }

        public String hex() {
            return HexFormat.of().formatHex(md.digest());
        }
    }

    /**
     * The versions whose files are in one directory, by name, each true when it is deleted: a tombstone wins
     * over bytes a crash left beside it.
     */
    private static TreeMap<String, Boolean> versionsIn(Path dir) throws IOException {
        TreeMap<String, Boolean> names = new TreeMap<>();
        for (String file : sortedNames(dir)) {
            if (file.endsWith(DataStore.TOMBSTONE)) {
                names.put(file.substring(0, file.length() - DataStore.TOMBSTONE.length()), true);
            } else {
                names.putIfAbsent(file, false);
            }
        }
        return names;
    }

    private static void collect(Path dir, String after, int max, List<Item> out) throws IOException {
        for (Map.Entry<String, Boolean> e :
                versionsIn(dir).tailMap(after, false).entrySet()) {
            if (out.size() >= max) {
                return;
            }
            Path file = dir.resolve(e.getKey() + (e.getValue() ? DataStore.TOMBSTONE : ""));
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                BlobHeader h = BlobHeader.read(ch);
                out.add(new Item(
                        e.getKey(), h.key(), h.vtime(), e.getValue() ? 0 : h.size(), h.crc32c(), e.getValue()));
            } catch (NoSuchFileException raced) {
                // deleted while we listed
            } catch (SpreadFailure damaged) {
                // a damaged header names no version; the scrub deals with the file
                if (damaged.code() != FailureCode.CORRUPT) {
                    throw damaged;
                }
            }
        }
    }

    private static String prefix(String s, int n) {
        return s.length() >= n ? s.substring(0, n) : s;
    }

    private static TreeSet<String> sortedNames(Path dir) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                out.add(p.getFileName().toString());
            }
        } catch (NoSuchFileException e) {
            // nothing stored yet
        }
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
