package org.spreadosd.bench;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.spreadosd.rpc.RpcConnection;

/**
 * A blocking MessagePack-RPC client, one call at a time, for {@code add_data} and {@code get_data}
 * only. Unlike {@link RpcConnection} it writes the data argument and reads the data result in
 * chunks straight from and to the socket, so an object of any size passes through a bounded buffer.
 */
final class StreamingRpcClient implements Closeable {
    private static final int CHUNK = 64 * 1024;

    private final Socket socket;
    private final MessagePacker out;
    private final MessageUnpacker in;
    private long nextId = 1;
    /** Set while a call is under way: a call cut short leaves the stream mid-message. */
    private boolean midCall;

    StreamingRpcClient(String host, int port, int timeoutMillis) throws IOException {
        socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            out = MessagePack.newDefaultPacker(new BufferedOutputStream(socket.getOutputStream(), CHUNK));
            in = MessagePack.newDefaultUnpacker(socket.getInputStream());
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    void addData(String key, ObjectContent content) throws IOException {
        if (content.size() > 0xffff_ffffL) {
            throw new IOException("MessagePack cannot carry more than 4 GiB in one value");
        }
        long id = request("add_data", 2);
        out.packString(key);
        out.packBinaryHeader((int) content.size());
        byte[] buf = new byte[(int) Math.min(CHUNK, content.size())];
        try (InputStream data = content.stream()) {
            for (int n; (n = data.read(buf)) > 0; ) {
                out.writePayload(buf, 0, n);
            }
        }
        out.flush();
        readResponseHead(id);
        in.skipValue();
        midCall = false;
    }

    void getData(String key, ContentVerifier verifier) throws IOException {
        long id = request("get_data", 1);
        out.packString(key);
        out.flush();
        readResponseHead(id);
        MessageFormat format = in.getNextFormat();
        if (format == MessageFormat.NIL) {
            in.unpackNil();
            midCall = false;
            throw new IOException("not found");
        }
        // the spec allows data as bin or (from old-spec servers) str
        long remaining = switch (format.getValueType()) {
            case BINARY -> in.unpackBinaryHeader() & 0xffff_ffffL;
            case STRING -> in.unpackRawStringHeader() & 0xffff_ffffL;
            default -> throw new IOException("answered a " + format.getValueType() + ", not data");
        };
        byte[] buf = new byte[(int) Math.min(CHUNK, Math.max(1, remaining))];
        while (remaining > 0) {
            int n = (int) Math.min(buf.length, remaining);
            in.readPayload(buf, 0, n);
            verifier.accept(buf, 0, n);
            remaining -= n;
        }
        midCall = false;
    }

    /** Writes a request header up to the parameters; returns its msgid. */
    private long request(String method, int params) throws IOException {
        midCall = true;
        long id = nextId++;
        out.packArrayHeader(4).packInt(0).packLong(id).packString(method).packArrayHeader(params);
        return id;
    }

    /** Reads a response up to its result; throws the server's error. */
    private void readResponseHead(long id) throws IOException {
        int parts = in.unpackArrayHeader();
        int type = in.unpackInt();
        long msgid = in.unpackLong();
        if (parts != 4 || type != 1 || msgid != id) {
            throw new IOException(
                    "answer out of protocol (" + parts + " parts, type " + type + ", msgid " + msgid + ")");
        }
        if (in.getNextFormat() == MessageFormat.NIL) {
            in.unpackNil();
            return;
        }
        Value error = in.unpackValue();
        in.skipValue();
        midCall = false;
        throw new IOException((error.isRawValue() ? error.asRawValue().asString() : error.toString()));
    }

    /** False after a call that failed part-way, when the next answer on the socket cannot be found. */
    boolean reusable() {
        return !midCall && !socket.isClosed();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
