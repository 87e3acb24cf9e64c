package org.spreadosd.failure;

/**
 * Why a request failed, in the one vocabulary every layer speaks (the data store, a data server, the gateway, the
 * HTTP and MessagePack-RPC front-ends): each code knows the HTTP status a client gets and whether it is expected, and
 * the codes a data server's answer may carry over to a gateway's client ({@link #acrossLink}).
 *
 * <p>Over MessagePack-RPC every code is said the same way, as the error string of {@code [1, msgid, error, nil]}
 * (rpc-api.md: "a string message"): the failure's message, which names what failed, and for {@link #INTERNAL} the
 * words "internal error". Which code a failure has is for the server's own decisions (retry, repair, 404 to nil);
 * the message is what a client reads.
 */
public enum FailureCode {
    /** A request the server cannot run as asked: malformed parameters, wrong RPC argument types or counts. */
    BAD_REQUEST(400),
    /** A key, version name, attributes or content type over its limit ({@code spreadosd.limits.*}). */
    LIMIT_EXCEEDED(400),
    /** The client's upload ended before all of its bytes arrived, or its chunked encoding was broken. */
    CLIENT_ABORTED(400),
    /**
     * The client's upload arrived slower than the server waits for ({@code spreadosd.clients.http.body-min-rate}) or
     * stalled; it is cut and nothing of it kept.
     */
    CLIENT_TOO_SLOW(408),
    /** A write sent to a read-only (snapshot) gateway. */
    READ_ONLY(403),
    /** No such version, endpoint or stored copy. */
    NOT_FOUND(404),
    /** An HTTP {@code /api/<cmd>} the gateway does not know. */
    UNKNOWN_COMMAND(406),
    /** Versions are immutable: a second write of the same (rsid, key, vtime) with other bytes. */
    ALREADY_STORED(409),
    /** A version that was deleted is never stored again, whoever still offers a copy of it. */
    DELETED(410),
    /** An object or form body beyond its maximum size; nothing is kept. */
    TOO_LARGE(413),
    /**
     * Stored bytes do not match their checksum or header (or a copy does not match the checksum its sender
     * announced): that copy must not be served, and the data server repairs it from a peer. A gateway's client
     * sees {@link #UNAVAILABLE} (the gateway tries another member first).
     */
    CORRUPT(500),
    /** A data server or replication-set could not serve: too few members reachable, a member's disk failing. */
    UNAVAILABLE(503),
    /**
     * A data server could not be reached, dropped the connection or did not answer in time: the request may or may
     * not have taken effect there, and the set's next member is worth a try.
     */
    PEER_LOST(503),
    /** The metadata store could not answer (database down, pool exhausted). */
    MDS_UNAVAILABLE(503),
    /** A data server's disk is full. */
    STORE_FULL(507),
    /** A failure nobody expected: a bug, logged once with its stack trace. */
    INTERNAL(500);

    private final int httpStatus;

    FailureCode(int httpStatus) {
        this.httpStatus = httpStatus;
    }

    /** The status of the HTTP answer, on the client API and on the node-to-node byte stream API alike. */
    public int httpStatus() {
        return httpStatus;
    }

    /** Whether the failure is one the server expects (logged in one line, if at all), not a bug. */
    public boolean expected() {
        return this != INTERNAL;
    }

    /**
     * What a gateway's client is told when a data server failed with this code: the same as if that data server had
     * answered over the byte stream API ({@link #answeredByDataServer} of this code's status), so a gateway's own
     * data server and a remote one fail alike.
     */
    public FailureCode acrossLink() {
        return answeredByDataServer(httpStatus);
    }

    /**
     * The code of a data server's answer with {@code status} on the byte stream API, as a gateway takes it: the
     * client's own mistakes, a version already stored or deleted and a full store pass through; anything else means
     * that member could not serve, which is {@link #UNAVAILABLE} (try again, or another member). A data server that
     * lost its own peer is not a lost peer to the gateway: only the gateway's own link says {@link #PEER_LOST}.
     */
    public static FailureCode answeredByDataServer(int status) {
        return switch (status) {
            case 400 -> BAD_REQUEST;
            case 408 -> CLIENT_TOO_SLOW;
            case 409 -> ALREADY_STORED;
            case 410 -> DELETED;
            case 413 -> TOO_LARGE;
            case 507 -> STORE_FULL;
            default -> UNAVAILABLE;
        };
    }
}
