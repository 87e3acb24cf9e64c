package org.spreadosd.ds;

/** A version that was deleted is never stored again, whoever still offers a copy of it. */
public final class VersionDeletedException extends BlobExistsException {
    public VersionDeletedException(String message) {
        super(message);
    }
}
