package org.spreadosd.model;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/** Helpers for keys, which are arbitrary bytes and must never be trusted as text or paths. */
public final class Keys {
    private Keys() {}

    /** For logs: the UTF-8 text when it is clean and short, otherwise hex, never raw control bytes. */
    public static String printable(byte[] key) {
        String text = new String(key, StandardCharsets.UTF_8);
        boolean clean = text.length() <= 200 && text.chars().noneMatch(c -> c < 0x20 || c == 0x7f || c == 0xfffd);
        if (clean) {
            return text;
        }
        byte[] head = key.length > 64 ? Arrays.copyOf(key, 64) : key;
        return "hex:" + HexFormat.of().formatHex(head) + (key.length > 64 ? "...(" + key.length + " bytes)" : "");
    }

    /** URL-path-safe, reversible encoding used on the node-to-node byte stream API. */
    public static String toBase64Url(byte[] key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key);
    }

    public static byte[] fromBase64Url(String text) {
        return Base64.getUrlDecoder().decode(text);
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
