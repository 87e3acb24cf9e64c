package org.spreadosd.gw.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.model.Attributes;

/** The attribute encodings of the HTTP API's {@code format=} parameter. */
public enum AttrFormat {
    JSON("application/json"),
    MSGPACK("application/x-msgpack"),
    TSV("text/tab-separated-values");

    /**
     * Attributes are a flat object of strings (depth 1); a little room keeps the refusal of deeper bodies a clear
     * message of the value that is not a string, and the limit keeps a deep body from costing its depth in work.
     */
    static final int MAX_JSON_NESTING = 16;

    private static final ObjectMapper JSON_MAPPER = new ObjectMapper(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_JSON_NESTING)
                            .build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final String contentType;

    AttrFormat(String contentType) {
        this.contentType = contentType;
    }

    public String contentType() {
        return contentType;
    }

    public static AttrFormat of(byte[] name) {
        if (name == null) {
            return JSON;
        }
        String text = new String(name, StandardCharsets.UTF_8);
        return switch (text) {
            case "json" -> JSON;
            case "msgpack" -> MSGPACK;
            case "tsv" -> TSV;
            default ->
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST, "unknown format '" + text + "': use json, msgpack or tsv");
        };
    }

    /** Parses attributes sent by a client; anything but a map of strings is a 400 that says what is wrong. */
    public Attributes parse(byte[] bytes) {
        return switch (this) {
            case JSON -> parseJson(bytes);
            case MSGPACK -> {
                try {
                    yield Attributes.fromMsgpack(bytes);
                } catch (IllegalArgumentException e) {
                    throw new SpreadFailure(FailureCode.BAD_REQUEST, "bad attrs: " + e.getMessage());
                }
            }
            case TSV -> parseTsv(bytes);
        };
    }

    public byte[] render(Attributes attrs) {
        return switch (this) {
            case JSON -> {
                ObjectNode node = JSON_MAPPER.createObjectNode();
                attrs.map().forEach(node::put);
                try {
                    yield JSON_MAPPER.writeValueAsBytes(node);
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }
            case MSGPACK -> attrs.toMsgpack();
            case TSV -> {
                StringBuilder sb = new StringBuilder();
                attrs.map()
                        .forEach((k, v) -> sb.append(escapeTsv(k))
                                .append('\t')
                                .append(escapeTsv(v))
                                .append('\n'));
                yield sb.toString().getBytes(StandardCharsets.UTF_8);
            }
        };
    }

    private static Attributes parseJson(byte[] bytes) {
        JsonNode root;
        try {
            root = JSON_MAPPER.readTree(bytes);
        } catch (StreamConstraintsException e) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST,
                    "bad attrs: JSON nesting deeper than " + MAX_JSON_NESTING
                            + " levels, the most an attributes body may have (a flat object of strings)");
        } catch (JsonProcessingException e) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST, "bad attrs: not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "bad attrs: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST,
                    "bad attrs: expected a JSON object of strings, got "
                            + (root == null
                                    ? "nothing"
                                    : root.getNodeType().name().toLowerCase()));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST,
                        "bad attrs: value of '" + e.getKey() + "' must be a string, got "
                                + e.getValue().getNodeType().name().toLowerCase());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return new Attributes(out);
    }

    private static Attributes parseTsv(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, "bad attrs: TSV is not valid UTF-8");
        }
        Map<String, String> out = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : text.split("\r?\n", -1)) {
            lineNo++;
            if (line.isEmpty()) {
                continue;
            }
            int tab = line.indexOf('\t');
            if (tab < 0) {
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST,
                        "bad attrs: TSV line " + lineNo + " has no TAB between name and value");
            }
            out.put(unescapeTsv(line.substring(0, tab)), unescapeTsv(line.substring(tab + 1)));
        }
        return new Attributes(out);
    }

    /** TAB, newline and backslash inside names and values are backslash-escaped so each pair stays one line. */
    private static String escapeTsv(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    private static String unescapeTsv(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                sb.append(
                        switch (n) {
                            case 't' -> '\t';
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            default -> n;
                        });
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
