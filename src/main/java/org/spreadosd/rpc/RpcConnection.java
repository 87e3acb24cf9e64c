package org.spreadosd.rpc;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/**
 * A blocking MessagePack-RPC client for the command-line tools: one call at a time on one socket.
 * Arguments are String (sent as str), byte[] (sent as bin), Long/Integer, null, or an already
 * encoded MessagePack {@link Value}.
 */
public final class RpcConnection implements AutoCloseable {
    /** The server answered with an error string. */
    public static final class RemoteError extends IOException {
        public RemoteError(String message) {
            super(message);
        }
    }

    private final Socket socket;
    private final OutputStream out;
    private final MessageUnpacker in;
    private long nextId = 1;

    public RpcConnection(String host, int port, int timeoutMillis) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        in = MessagePack.newDefaultUnpacker(socket.getInputStream());
    }

    public Value call(String method, Object... args) throws IOException {
        long id = nextId++;
        try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
            p.packArrayHeader(4).packInt(0).packLong(id).packString(method).packArrayHeader(args.length);
            for (Object a : args) {
                pack(p, a);
            }
            out.write(p.toByteArray());
            out.flush();
        }
        Value response = in.unpackValue();
        List<Value> parts = response.asArrayValue().list();
        if (parts.size() != 4 || parts.get(1).asIntegerValue().toLong() != id) {
            throw new IOException("unexpected answer " + response);
        }
        if (!parts.get(2).isNilValue()) {
            // a str, or raw (bin) from an old-spec server
            throw new RemoteError(
                    parts.get(2).isRawValue()
                            ? parts.get(2).asRawValue().asString()
                            : parts.get(2).toString());
        }
        return parts.get(3);
    }

    private static void pack(MessageBufferPacker p, Object a) throws IOException {
        if (a == null) {
            p.packNil();
        } else if (a instanceof String s) {
            p.packString(s);
        } else if (a instanceof byte[] b) {
            p.packBinaryHeader(b.length).writePayload(b);
        } else if (a instanceof Long || a instanceof Integer) {
            p.packLong(((Number) a).longValue());
        } else if (a instanceof Value v) {
            p.packValue(v);
        } else {
            throw new IllegalArgumentException("cannot send " + a.getClass());
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
