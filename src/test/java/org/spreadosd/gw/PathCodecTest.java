package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PathCodecTest {
    @Test
    void roundTripsEveryByte() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        assertArrayEquals(all, PathCodec.decode(PathCodec.encodePath(all), false));
    }

    @Test
    void plusIsASpaceOnlyInForms() {
        assertArrayEquals("a+b".getBytes(), PathCodec.decode("a+b", false));
        assertArrayEquals("a b".getBytes(), PathCodec.decode("a+b", true));
    }

    @Test
    void unescapedTextIsUtf8IncludingSupplementaryCharacters() {
        assertArrayEquals("é🎵".getBytes(StandardCharsets.UTF_8), PathCodec.decode("é🎵", false));
        assertEquals("photos/a%20b.png", PathCodec.encodePath("photos/a b.png".getBytes()));
    }

    @Test
    void malformedEscapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> PathCodec.decode("%zz", false));
        assertThrows(IllegalArgumentException.class, () -> PathCodec.decode("ab%4", false));
    }
}
