package org.spreadosd.ds;

import java.nio.file.Path;

/** A version's bytes on this DS: where they are and what the header says of them. */
public record StoredBlob(Path path, BlobHeader header) {
    public long size() {
        return header.size();
    }

    public long dataOffset() {
        return header.length();
    }
}
