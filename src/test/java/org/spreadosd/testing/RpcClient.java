package org.spreadosd.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.function.Consumer;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;

/** A MessagePack-RPC client on a real socket, writing requests byte for byte as the test says. */
public final class RpcClient implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final MessageUnpacker in;

    public RpcClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        out = socket.getOutputStream();
        InputStream raw = socket.getInputStream();
        in = MessagePack.newDefaultUnpacker(raw);
    }

    /** Encodes {@code [0, msgid, method, params]}; {@code params} writes the params array with the packer given. */
    public static byte[] request(long msgid, String method, boolean newSpec, Consumer<MessagePacker> params) {
        MessagePack.PackerConfig config = new MessagePack.PackerConfig().withStr8FormatSupport(newSpec);
        try (MessageBufferPacker p = config.newBufferPacker()) {
            p.packArrayHeader(4).packInt(0).packLong(msgid).packString(method);
            params.accept(p);
            return p.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** The next response {@code [1, msgid, error, result]} as a value. */
    public Value receive() throws IOException {
        return in.unpackValue();
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
