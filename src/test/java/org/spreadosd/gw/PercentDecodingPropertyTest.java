package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.http.RequestParams;

/**
 * Keys and parameters as HTTP carries them: percent-decoding to raw bytes is the inverse of the encoding for
 * every byte string, agrees with the JDK's URLDecoder on every ASCII input (valid or not), and no input makes it
 * or the query-string parser fail other than with the client error that names the problem.
 */
class PercentDecodingPropertyTest {
    @Property(tries = 500)
    void decodingInvertsEncodingForEveryKey(@ForAll @Size(max = 300) byte[] key) {
        assertArrayEquals(key, PathCodec.decode(PathCodec.encodePath(key), false));
        assertArrayEquals(key, PathCodec.decode(PathCodec.encodePath(key), true), "an encoded key has no '+'");
    }

    /** ISO-8859-1 makes URLDecoder map each %XX to exactly one byte: a reference for raw-byte decoding. */
    @Property(tries = 1000)
    void agreesWithUrlDecoderOnAsciiInput(@ForAll("asciiTargets") String s) {
        byte[] expected;
        try {
            expected = signedEscape(s)
                    ? null
                    : URLDecoder.decode(s, StandardCharsets.ISO_8859_1).getBytes(StandardCharsets.ISO_8859_1);
        } catch (IllegalArgumentException refused) {
            expected = null;
        }
        byte[] actual;
        try {
            actual = PathCodec.decode(s, true);
        } catch (IllegalArgumentException refused) {
            actual = null;
        }
        if (expected == null || actual == null) {
            assertEquals(expected == null, actual == null, "one refused '" + s + "', the other did not");
        } else {
            assertArrayEquals(expected, actual, s);
        }
    }

    /**
     * URLDecoder parses an escape with Integer.parseInt, which takes "%+1" as byte 1 and "%-0" as byte 0; RFC
     * 3986 allows two hex digits only, as PathCodec does.
     */
    private static boolean signedEscape(String s) {
        for (int i = s.indexOf('%'); i >= 0 && i + 1 < s.length(); i = s.indexOf('%', i + 3)) {
            if (s.charAt(i + 1) == '+' || s.charAt(i + 1) == '-') {
                return true;
            }
        }
        return false;
    }

    @Property(tries = 500)
    void anyTextDecodesOrIsRefusedAsMalformed(@ForAll @Size(max = 200) String s) {
        for (boolean plusIsSpace : new boolean[] {false, true}) {
            try {
                byte[] decoded = PathCodec.decode(s, plusIsSpace);
                if (s.indexOf('%') < 0 && (!plusIsSpace || s.indexOf('+') < 0)) {
                    assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), decoded, "text without escapes is its UTF-8");
                }
            } catch (IllegalArgumentException refused) {
                assertTrue(s.indexOf('%') >= 0, "only a bad escape is refused: " + refused.getMessage());
                assertTrue(refused.getMessage().contains("percent-escape"), refused.getMessage());
            }
        }
    }

    /** Only ASCII hex digits make an escape: "%٣٣" (Arabic-Indic digits) is no byte 0x33. */
    @Property(tries = 500)
    void anEscapeIsTwoAsciiHexDigits(@ForAll("unicodeDigits") char hi, @ForAll("unicodeDigits") char lo) {
        String s = "%" + hi + lo;
        try {
            PathCodec.decode(s, false);
            assertTrue(isAsciiHex(hi) && isAsciiHex(lo), "accepted " + s);
        } catch (IllegalArgumentException refused) {
            assertTrue(!isAsciiHex(hi) || !isAsciiHex(lo), "refused " + s);
        }
    }

    @Provide
    Arbitrary<Character> unicodeDigits() {
        return Arbitraries.oneOf(
                Arbitraries.chars().with("0123456789abcdefABCDEFgG"),
                Arbitraries.chars().all().filter(c -> Character.digit(c, 16) >= 0));
    }

    private static boolean isAsciiHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    @Property(tries = 500)
    void aQueryStringParsesOrIsABadRequest(@ForAll("asciiTargets") String query) {
        try {
            RequestParams.fromQuery(query);
        } catch (SpreadFailure e) {
            assertEquals(FailureCode.BAD_REQUEST, e.code());
            assertEquals(400, e.httpStatus());
            assertTrue(e.getMessage().startsWith("malformed parameter"), e.getMessage());
        }
    }

    @Property(tries = 300)
    void encodedParametersComeBackAsTheirBytesFirstValueWinning(
            @ForAll @Size(max = 6) List<@Size(min = 1, max = 20) byte[]> names,
            @ForAll @Size(max = 6) List<@Size(max = 40) byte[]> values) {
        List<String> pairs = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        List<byte[]> firstValues = new ArrayList<>();
        int n = Math.min(names.size(), values.size());
        for (int i = 0; i < n; i++) {
            // Names are UTF-8 text to the parser; values stay raw bytes.
            String name = new String(names.get(i), StandardCharsets.UTF_8);
            pairs.add(
                    PathCodec.encodePath(name.getBytes(StandardCharsets.UTF_8)).replace("/", "%2F")
                            + "="
                            + PathCodec.encodePath(values.get(i)).replace("/", "%2F"));
            if (!seen.contains(name)) {
                seen.add(name);
                firstValues.add(values.get(i));
            }
        }
        RequestParams params = RequestParams.fromQuery(String.join("&", pairs));
        for (int i = 0; i < seen.size(); i++) {
            assertArrayEquals(firstValues.get(i), params.optional(seen.get(i)), seen.get(i));
        }
    }

    /** Request targets as a hostile client writes them: escapes good and bad, '+', '&', '=', any ASCII. */
    @Provide
    Arbitrary<String> asciiTargets() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.strings().ascii().ofMaxLength(4),
                Arbitraries.strings()
                        .withChars("0123456789abcdefABCDEFxz%+-")
                        .ofMaxLength(3)
                        .map(h -> "%" + h),
                Arbitraries.of("+", "&", "=", "%", "%%", "%2", "%zz", "%00", "%FF", "%2F", "&&", "=="));
        return piece.list().ofMaxSize(12).map(parts -> String.join("", parts));
    }
}
