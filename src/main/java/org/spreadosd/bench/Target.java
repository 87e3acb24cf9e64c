package org.spreadosd.bench;

import java.io.Closeable;
import java.io.IOException;

/** A server spoken to over one protocol. */
interface Target {
    /** e.g. "http 127.0.0.1:18080" */
    String describe();

    /** A connection for one worker thread; it connects (and reconnects) when it is first used. */
    Connection open();

    interface Connection extends Closeable {
        /** Stores the object under {@code key}; an IOException says why the server did not. */
        void put(String key, ObjectContent content) throws IOException;

        /** Reads {@code key} back and checks every byte against {@code expected}. */
        void getAndVerify(String key, ObjectContent expected) throws IOException;

        @Override
        void close();
    }
}
