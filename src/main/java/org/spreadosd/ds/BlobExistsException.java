package org.spreadosd.ds;

import java.io.IOException;

/** Versions are immutable: a second write of the same (key, vtime) is refused. */
public class BlobExistsException extends IOException {
    public BlobExistsException(String message) {
        super(message);
    }
}
