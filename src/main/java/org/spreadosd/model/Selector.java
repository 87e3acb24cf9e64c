package org.spreadosd.model;

/**
 * Which version of a key a read, delete or URL request means (data-model.md, Look-ups).
 * The three kinds are exclusive: giving both a vtime and a vname is a client error.
 */
public sealed interface Selector {

    /** The newest version, unless it is a removal mark. */
    record Head() implements Selector {}

    /** The newest version whose vtime is at most {@code vtime}; a removal mark found this way means not found. */
    record AtTime(long vtime) implements Selector {}

    /** The newest version that carries this name. */
    record Named(byte[] vname) implements Selector {}

    Selector HEAD = new Head();

    static Selector atTime(long vtime) {
        return new AtTime(vtime);
    }

    static Selector named(byte[] vname) {
        return new Named(vname);
    }
}
