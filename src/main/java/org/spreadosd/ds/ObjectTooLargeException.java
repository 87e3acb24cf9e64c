package org.spreadosd.ds;

import java.io.IOException;

/** An upload beyond {@code spreadosd.ds.max-object-size}: refused with 413, nothing kept. */
public class ObjectTooLargeException extends IOException {
    public ObjectTooLargeException(long size, long max) {
        super("object of " + size + " bytes or more exceeds the maximum object size of " + max + " bytes");
    }
}
