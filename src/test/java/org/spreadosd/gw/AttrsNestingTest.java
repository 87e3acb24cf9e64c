package org.spreadosd.gw;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.spreadosd.testing.Http;
import org.spreadosd.testing.StandaloneNodeExtension;

/**
 * Attributes bodies nested far deeper than a flat map of strings, as JSON and as MessagePack, against a live node:
 * each is a 400 that names the limit, decoded without recursion (a recursive decoder overflows its stack on a
 * few hundred kilobytes of array headers, and a StackOverflowError stops the whole node), and the node goes on.
 */
class AttrsNestingTest {
    private static final int DEPTH = 200_000;

    @RegisterExtension
    static final StandaloneNodeExtension standalone = new StandaloneNodeExtension();

    private static final Http http = new Http();

    @BeforeAll
    static void anObject() {
        assertEquals(
                202, http.put(standalone.node().uri("/data/k"), new byte[] {1}).statusCode());
    }

    @Test
    void deeplyNestedMsgpackAttrsAre400() {
        ByteArrayOutputStream deep = new ByteArrayOutputStream();
        deep.write(0x81); // {"a": [[[...]]]}
        deep.write(0xa1);
        deep.write('a');
        for (int i = 0; i < DEPTH; i++) {
            deep.write(0x91);
        }
        deep.write(0xc0);
        assertRefused(put("msgpack", deep.toByteArray()), "must be a string");

        ByteArrayOutputStream top = new ByteArrayOutputStream();
        for (int i = 0; i < DEPTH; i++) {
            top.write(0x91);
        }
        top.write(0xc0);
        assertRefused(put("msgpack", top.toByteArray()), "must be a map");
        assertServing();
    }

    @Test
    void deeplyNestedJsonAttrsAre400NamingTheLimit() {
        String deep = "{\"a\":" + "[".repeat(DEPTH) + "]".repeat(DEPTH) + "}";
        assertRefused(put("json", deep.getBytes(StandardCharsets.UTF_8)), "deeper than 16 levels");
        assertRefused(put("json", ("[".repeat(DEPTH)).getBytes(StandardCharsets.UTF_8)), "deeper than 16 levels");
        assertServing();
    }

    private static HttpResponse<byte[]> put(String format, byte[] body) {
        return http.put(standalone.node().uri("/attrs/k?format=" + format), body);
    }

    private static void assertRefused(HttpResponse<byte[]> r, String says) {
        String text = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(400, r.statusCode(), text);
        assertTrue(text.contains(says), text);
    }

    private static void assertServing() {
        assertEquals(200, http.get(standalone.node().uri("/data/k")).statusCode());
        assertEquals(
                202,
                http.put(
                                standalone.node().uri("/attrs/k?format=json"),
                                "{\"a\":\"b\"}".getBytes(StandardCharsets.UTF_8))
                        .statusCode());
    }
}
