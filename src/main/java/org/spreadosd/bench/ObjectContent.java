package org.spreadosd.bench;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of one benchmark object, a function of its key and position only: a writer can produce
 * them and a reader can check them chunk by chunk, so no object is ever held whole in memory and
 * nothing written has to be remembered.
 */
final class ObjectContent {
    private final long seed;
    private final long size;

    ObjectContent(String key, long size) {
        this.seed = seedOf(key);
        this.size = size;
    }

    long size() {
        return size;
    }

    /** Fills {@code len} bytes of {@code buf} from {@code off} with the object's bytes at {@code position}. */
    void fill(long position, byte[] buf, int off, int len) {
        long p = position;
        int i = off;
        int end = off + len;
        while (i < end) {
            // each aligned 8-byte word is computed on its own, so any chunking gives the same bytes
            long word = mix(seed + (p >>> 3) * 0x9E3779B97F4A7C15L);
            for (int shift = (int) (p & 7) * 8; shift < 64 && i < end; shift += 8) {
                buf[i++] = (byte) (word >>> shift);
                p++;
            }
        }
    }

    /** The object's bytes, generated as they are read. */
    InputStream stream() {
        return new InputStream() {
            private long position;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buf, int off, int len) {
                if (position >= size) {
                    return -1;
                }
                int n = (int) Math.min(len, size - position);
                fill(position, buf, off, n);
                position += n;
                return n;
            }
        };
    }

    ContentVerifier verifier() {
        return new ContentVerifier(this);
    }

    /** FNV-1a: keys that differ in one character get unrelated contents once mixed. */
    private static long seedOf(String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    /** The SplitMix64 finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
