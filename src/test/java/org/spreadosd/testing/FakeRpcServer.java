package org.spreadosd.testing;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;

/**
 * A MessagePack-RPC server for tests, on a free loopback port: a thread per connection reads
 * {@code [0, msgid, method, params]} requests and answers each from canned answers, recording the calls.
 * An answer that throws {@link Refusal} is sent back as an RPC error string; an unknown method or
 * {@code stat} cmd is an error too, as on the real servers.
 */
public final class FakeRpcServer implements AutoCloseable {
    /** One request the server got. */
    public record Call(String method, List<Value> params) {}

    /** Thrown by an answer: the server replies with this message as the error. */
    public static final class Refusal extends RuntimeException {
        public Refusal(String message) {
            super(message);
        }
    }

    private final ServerSocket server;
    private final Map<String, Function<List<Value>, Value>> answers = new ConcurrentHashMap<>();
    private final Map<String, Value> stats = new ConcurrentHashMap<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private volatile boolean errorsAsBinary;

    public FakeRpcServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        answers.put("stat", params -> {
            String cmd = params.get(0).asRawValue().asString();
            Value v = stats.get(cmd);
            if (v == null) {
                throw new Refusal("unknown stat cmd '" + cmd + "'");
            }
            return v;
        });
        Thread acceptor = new Thread(this::acceptLoop, "fake-rpc-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:port}. */
    public String address() {
        return "127.0.0.1:" + port();
    }

    public FakeRpcServer answer(String method, Function<List<Value>, Value> answer) {
        answers.put(method, answer);
        return this;
    }

    public FakeRpcServer answer(String method, Value constant) {
        return answer(method, params -> constant);
    }

    /** The answer to {@code stat(cmd)}. */
    public FakeRpcServer stat(String cmd, Value value) {
        stats.put(cmd, value);
        return this;
    }

    /** Send error messages as bin rather than str, as an old-spec server does. */
    public FakeRpcServer errorsAsBinary() {
        errorsAsBinary = true;
        return this;
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    public List<Call> calls(String method) {
        return calls.stream().filter(c -> c.method().equals(method)).toList();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.add(s);
                Thread t = new Thread(() -> serve(s), "fake-rpc-" + port());
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s;
                MessageUnpacker in = MessagePack.newDefaultUnpacker(s.getInputStream())) {
            OutputStream out = new BufferedOutputStream(s.getOutputStream());
            while (in.hasNext()) {
                List<Value> request = in.unpackValue().asArrayValue().list();
                long msgid = request.get(1).asIntegerValue().toLong();
                String method = request.get(2).asRawValue().asString();
                List<Value> params = request.get(3).asArrayValue().list();
                calls.add(new Call(method, params));
                Value error = ValueFactory.newNil();
                Value result = ValueFactory.newNil();
                try {
                    Function<List<Value>, Value> answer = answers.get(method);
                    if (answer == null) {
                        throw new Refusal("unknown method '" + method + "'");
                    }
                    result = answer.apply(params);
                } catch (Refusal e) {
                    error = errorsAsBinary
                            ? ValueFactory.newBinary(e.getMessage().getBytes(StandardCharsets.UTF_8))
                            : ValueFactory.newString(e.getMessage());
                }
                try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
                    p.packValue(ValueFactory.newArray(
                            ValueFactory.newInteger(1), ValueFactory.newInteger(msgid), error, result));
                    out.write(p.toByteArray());
                    out.flush();
                }
            }
        } catch (IOException | RuntimeException closed) {
            // the client went away, or the server is closing
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : connections) {
            s.close();
        }
    }
}
