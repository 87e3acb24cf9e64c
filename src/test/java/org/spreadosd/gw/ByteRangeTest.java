package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.spreadosd.gw.http.ByteRange;

class ByteRangeTest {
    @Test
    void parsesTheFormsOfOneRange() {
        assertEquals(new ByteRange(0, 10), ByteRange.parse("bytes=0-9", 100));
        assertEquals(new ByteRange(90, 10), ByteRange.parse("bytes=90-", 100));
        assertEquals(new ByteRange(95, 5), ByteRange.parse("bytes=-5", 100));
        assertEquals(new ByteRange(0, 100), ByteRange.parse("bytes=-500", 100));
        assertEquals(new ByteRange(50, 50), ByteRange.parse("bytes=50-1000", 100), "end clipped to the size");
    }

    @Test
    void ignoresWhatItDoesNotServe() {
        assertNull(ByteRange.parse(null, 100));
        assertNull(ByteRange.parse("bytes=0-1,5-6", 100), "several ranges: whole object");
        assertNull(ByteRange.parse("items=0-1", 100));
        assertNull(ByteRange.parse("bytes=x-y", 100));
        assertNull(ByteRange.parse("bytes=9-3", 100));
    }

    @Test
    void rangesPastTheEndAreUnsatisfiable() {
        assertThrows(ByteRange.Unsatisfiable.class, () -> ByteRange.parse("bytes=100-", 100));
        assertThrows(ByteRange.Unsatisfiable.class, () -> ByteRange.parse("bytes=-0", 100));
        assertThrows(ByteRange.Unsatisfiable.class, () -> ByteRange.parse("bytes=0-", 0));
    }
}
