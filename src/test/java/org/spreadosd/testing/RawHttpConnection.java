package org.spreadosd.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTP/1.1 connection on a plain socket, for what a well-behaved client cannot send: bodies shorter than their
 * Content-Length, broken chunked encodings, headers trickled a byte at a time, connections left open doing nothing.
 */
public final class RawHttpConnection implements AutoCloseable {
    private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.[01] (\\d{3})");
    private static final Pattern LENGTH = Pattern.compile("(?im)^content-length:\\s*(\\d+)\\s*$");

    /** An answer read from the connection: its status and its whole text (headers and body). */
    public record Answer(int status, String text) {}

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    private RawHttpConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
    }

    public static RawHttpConnection open(int port) {
        return open(InetAddress.getLoopbackAddress(), port);
    }

    /** A connection from {@code local} (any 127.x.y.z acts as another client address on loopback). */
    public static RawHttpConnection open(InetAddress local, int port) {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.bind(new InetSocketAddress(local, 0));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            return new RawHttpConnection(s);
        } catch (IOException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // the connect's failure is what matters
            }
            throw new UncheckedIOException(e);
        }
    }

    public RawHttpConnection send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttpConnection send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code bytes}, or says false when the server has closed the connection. */
    public boolean trySend(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Ends what this client sends (TCP FIN), keeping the connection open for the answer. */
    public RawHttpConnection endOutput() {
        try {
            socket.shutdownOutput();
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the server has sent something, without reading it; false if nothing came {@code within}. */
    public boolean answerArrives(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (in.available() == 0) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(10);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Reads one answer (headers and a Content-Length body), waiting at most {@code within}. */
    public Answer answer(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            while (true) {
                String text = got.toString(StandardCharsets.ISO_8859_1);
                int end = text.indexOf("\r\n\r\n");
                if (end >= 0) {
                    Matcher len = LENGTH.matcher(text.substring(0, end));
                    long want = len.find() ? Long.parseLong(len.group(1)) : 0;
                    if (text.length() - end - 4 >= want) {
                        Matcher m = STATUS.matcher(text);
                        if (!m.find()) {
                            throw new IllegalStateException("not an HTTP answer: " + text);
                        }
                        return new Answer(Integer.parseInt(m.group(1)), text);
                    }
                }
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new IllegalStateException("no whole answer within " + within + ", got: " + text);
                }
                socket.setSoTimeout((int) left);
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException e) {
                    continue;
                }
                if (n < 0) {
                    throw new IllegalStateException("connection closed before a whole answer, got: " + text);
                }
                got.write(buf, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether the server closes the connection (end of stream or reset) within {@code within}. */
    public boolean closedWithin(Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        byte[] buf = new byte[8192];
        try {
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                socket.setSoTimeout((int) left);
                try {
                    if (in.read(buf) < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    // look at the clock again
                }
            }
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a test's connection
        }
    }
}
