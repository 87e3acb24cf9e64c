package org.spreadosd.bench;

import java.io.IOException;
import java.util.Arrays;

/** Checks a received object against its {@link ObjectContent} as the chunks arrive. */
final class ContentVerifier {
    private final ObjectContent expected;
    private byte[] scratch = new byte[0];
    private long received;
    private long firstDifference = -1;

    ContentVerifier(ObjectContent expected) {
        this.expected = expected;
    }

    void accept(byte[] buf, int off, int len) {
        long comparable = Math.max(0, Math.min(len, expected.size() - received));
        if (firstDifference < 0 && comparable > 0) {
            int n = (int) comparable;
            if (scratch.length < n) {
                scratch = new byte[n];
            }
            expected.fill(received, scratch, 0, n);
            int at = Arrays.mismatch(buf, off, off + n, scratch, 0, n);
            if (at >= 0) {
                firstDifference = received + at;
            }
        }
        received += len;
    }

    /** @throws IOException if any byte differed or the length is not the written one */
    void finish() throws IOException {
        if (firstDifference >= 0) {
            throw new IOException("content differs from what was written at byte " + firstDifference);
        }
        if (received != expected.size()) {
            throw new IOException("got " + received + " bytes, wrote " + expected.size());
        }
    }
}
