package org.spreadosd.ds;

import java.io.IOException;

/** Stored bytes do not match their checksum or header: the copy on this DS must not be served. */
public class CorruptBlobException extends IOException {
    public CorruptBlobException(String message) {
        super(message);
    }

    /** The log line that reports the corruption says all there is to say; a stack trace would add nothing. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
