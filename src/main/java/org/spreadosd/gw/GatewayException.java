package org.spreadosd.gw;

/** A request the gateway cannot serve, with the HTTP status that says why (400, 403, 503, ...). */
public class GatewayException extends RuntimeException {
    private final int status;

    public GatewayException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static GatewayException badRequest(String message) {
        return new GatewayException(400, message);
    }

    public static GatewayException unavailable(String message) {
        return new GatewayException(503, message);
    }
}
