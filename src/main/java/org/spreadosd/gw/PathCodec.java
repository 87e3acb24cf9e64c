package org.spreadosd.gw;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Percent-encoding of keys as raw bytes. Keys are arbitrary bytes, so a path or query value is
 * decoded to bytes here and never through a character set.
 */
public final class PathCodec {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private PathCodec() {}

    /** Encodes every byte but RFC 3986 unreserved characters and '/'. */
    public static String encodePath(byte[] key) {
        StringBuilder sb = new StringBuilder(key.length * 3);
        for (byte b : key) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '.'
                    || c == '_'
                    || c == '~'
                    || c == '/') {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            }
        }
        return sb.toString();
    }

    /**
     * Decodes %XX escapes to bytes. In form and query values ({@code plusIsSpace}) '+' is a space; in a
     * path it is itself.
     *
     * @throws IllegalArgumentException on a malformed escape
     */
    public static byte[] decode(CharSequence s, boolean plusIsSpace) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("truncated percent-escape at position " + i);
                }
                int hi = hexDigit(s.charAt(i + 1));
                int lo = hexDigit(s.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("malformed percent-escape '" + s.subSequence(i, i + 3) + "'");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out.write(' ');
            } else if (c < 0x80) {
                out.write(c);
            } else {
                int codePoint = Character.codePointAt(s, i);
                byte[] utf8 = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
                out.write(utf8, 0, utf8.length);
                i += Character.charCount(codePoint) - 1;
            }
        }
        return out.toByteArray();
    }

    /** An ASCII hex digit's value, else -1: Character.digit would also take other scripts' digits ("%٣٣"). */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
