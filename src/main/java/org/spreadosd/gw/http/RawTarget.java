package org.spreadosd.gw.http;

import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The request target exactly as the client sent it. Pekko's parsed URI decodes the path as UTF-8,
 * which would corrupt keys that are not UTF-8; keys are decoded from this raw form to bytes instead.
 */
record RawTarget(String path, String query) {

    static RawTarget of(HttpRequest request) {
        String raw = request.getHeader("Raw-Request-URI")
                .map(HttpHeader::value)
                .orElseGet(() -> request.getUri().toRelative().toString());
        if (raw.startsWith("http://") || raw.startsWith("https://")) {
            int slash = raw.indexOf('/', raw.indexOf("//") + 2);
            raw = slash < 0 ? "/" : raw.substring(slash);
        }
        int hash = raw.indexOf('#');
        if (hash >= 0) {
            raw = raw.substring(0, hash);
        }
        int q = raw.indexOf('?');
        return q < 0 ? new RawTarget(raw, "") : new RawTarget(raw.substring(0, q), raw.substring(q + 1));
    }
}
