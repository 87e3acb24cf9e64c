package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.http.RequestParams;

/**
 * Keys and parameters as HTTP carries them: percent-decoding to raw bytes is the inverse of the encoding for
 * every byte string, agrees with the JDK's URLDecoder on every ASCII input (valid or not), and no input makes it
 * or the query-string parser fail other than with the client error that names the problem.
 *
 * <p>A failure names its values and "Seed was N"; the same examples come again with
 * {@code mvn -B verify -Dtest=PercentDecodingPropertyTest#<property> -DQT_SEED=N} (Surefire hands -D on to the
 * tests).
 */
class PercentDecodingPropertyTest {
    @Test
    void decodingInvertsEncodingForEveryKey() {
        qt().withExamples(500).forAll(bytes(0, 300)).checkAssert(key -> {
            assertArrayEquals(key, PathCodec.decode(PathCodec.encodePath(key), false));
            assertArrayEquals(key, PathCodec.decode(PathCodec.encodePath(key), true), "an encoded key has no '+'");
        });
    }

    static Gen<byte[]> bytes(int minLength, int maxLength) {
        return Generate.byteArrays(
                        integers().between(minLength, maxLength),
                        Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0))
                .describedAs(b -> HexFormat.of().formatHex(b));
    }

    /** ISO-8859-1 makes URLDecoder map each %XX to exactly one byte: a reference for raw-byte decoding. */
    @Test
    void agreesWithUrlDecoderOnAsciiInput() {
        qt().withExamples(1000).forAll(asciiTargets()).checkAssert(PercentDecodingPropertyTest::agreesWithUrlDecoder);
    }

    private static void agreesWithUrlDecoder(String s) {
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

    @Test
    void anyTextDecodesOrIsRefusedAsMalformed() {
        qt().withExamples(500).forAll(anyText()).checkAssert(PercentDecodingPropertyTest::decodesOrIsRefused);
    }

    /**
     * Up to 200 chars of any kind, lone surrogates included, or up to 200 code points of any plane; now and then
     * an escape, good or bad, among them.
     */
    static Gen<String> anyText() {
        Gen<String> chars = lists().of(Generate.characters(Character.MIN_VALUE, Character.MAX_VALUE))
                .ofSizeBetween(0, 200)
                .map(cs -> cs.stream().map(String::valueOf).reduce("", String::concat));
        Gen<String> codePoints = strings().allPossible().ofLengthBetween(0, 200);
        Gen<String> withEscapes = lists().of(Generate.oneOf(
                        codePoints.map(t -> t.length() > 8 ? t.substring(0, 8) : t),
                        Generate.pick(List.of("%", "%4", "%41", "%zz", "+"))))
                .ofSizeBetween(0, 25)
                .map(parts -> String.join("", parts));
        return Generate.oneOf(chars, codePoints, withEscapes);
    }

    private static void decodesOrIsRefused(String s) {
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
    @Test
    void anEscapeIsTwoAsciiHexDigits() {
        qt().withExamples(500).forAll(unicodeDigits(), unicodeDigits()).checkAssert((hi, lo) -> {
            String s = "%" + hi + lo;
            try {
                PathCodec.decode(s, false);
                assertTrue(isAsciiHex(hi) && isAsciiHex(lo), "accepted " + s);
            } catch (IllegalArgumentException refused) {
                assertTrue(!isAsciiHex(hi) || !isAsciiHex(lo), "refused " + s);
            }
        });
    }

    /** ASCII hex digits and two that are not, or any char Character.digit takes as a hex digit (other scripts). */
    static Gen<Character> unicodeDigits() {
        List<Character> digits = IntStream.rangeClosed(Character.MIN_VALUE, Character.MAX_VALUE)
                .filter(c -> Character.digit((char) c, 16) >= 0)
                .mapToObj(c -> (char) c)
                .toList();
        return Generate.oneOf(Generate.pick(chars("0123456789abcdefABCDEFgG")), Generate.pick(digits));
    }

    private static List<Character> chars(String s) {
        return s.chars().mapToObj(c -> (char) c).toList();
    }

    private static boolean isAsciiHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    @Test
    void aQueryStringParsesOrIsABadRequest() {
        qt().withExamples(500).forAll(asciiTargets()).checkAssert(query -> {
            try {
                RequestParams.fromQuery(query);
            } catch (SpreadFailure e) {
                assertEquals(FailureCode.BAD_REQUEST, e.code());
                assertEquals(400, e.httpStatus());
                assertTrue(e.getMessage().startsWith("malformed parameter"), e.getMessage());
            }
        });
    }

    @Test
    void encodedParametersComeBackAsTheirBytesFirstValueWinning() {
        qt().withExamples(300)
                .forAll(
                        lists().of(bytes(1, 20)).ofSizeBetween(0, 6),
                        lists().of(bytes(0, 40)).ofSizeBetween(0, 6))
                .checkAssert(PercentDecodingPropertyTest::comeBackFirstValueWinning);
    }

    private static void comeBackFirstValueWinning(List<byte[]> names, List<byte[]> values) {
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

    /**
     * Request targets as a hostile client writes them: escapes good and bad, '+', '&', '=', any ASCII; "%+1" and
     * "%-0" (which URLDecoder takes) come often enough to be met in every run.
     */
    static Gen<String> asciiTargets() {
        Gen<String> escape = lists().of(Generate.pick(chars("0123456789abcdefABCDEFxz%+-")))
                .ofSizeBetween(0, 3)
                .map(cs -> "%" + cs.stream().map(String::valueOf).reduce("", String::concat));
        Gen<String> piece = Generate.oneOf(
                strings().ascii().ofLengthBetween(0, 4),
                escape,
                Generate.pick(
                        List.of("+", "&", "=", "%", "%%", "%2", "%zz", "%00", "%FF", "%2F", "%+1", "%-0", "&&", "==")));
        return lists().of(piece).ofSizeBetween(0, 12).map(parts -> String.join("", parts));
    }
}
