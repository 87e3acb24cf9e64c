package org.spreadosd.bench;

import java.util.BitSet;

/** The numbers of the objects the PUT phase stored, which are the ones the GET phase may read. */
final class WrittenObjects {
    private final BitSet numbers = new BitSet();

    /** Objects 0 to count - 1, written by an earlier run. */
    static WrittenObjects first(int count) {
        WrittenObjects all = new WrittenObjects();
        all.numbers.set(0, count);
        return all;
    }

    synchronized void add(int number) {
        numbers.set(number);
    }

    synchronized int[] toArray() {
        return numbers.stream().toArray();
    }
}
