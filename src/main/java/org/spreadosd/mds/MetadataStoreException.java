package org.spreadosd.mds;

/** The metadata store could not answer (database down, pool exhausted): clients see 503. */
public class MetadataStoreException extends RuntimeException {
    public MetadataStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
