import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Hostile and normal HTTP clients for measuring a node by hand (issue 13), one mode per process, so that each
 * process has its own file-descriptor limit. Single-file program: java bench/HostileHttp.java MODE ...
 *
 * <pre>
 *   idle      PORT N FIRST_ADDR ADDRS             N connections that never send a byte
 *   slowloris PORT N FIRST_ADDR ADDRS SECONDS [reconnect]
 *                                                 N connections trickling a header byte every SECONDS; with
 *                                                 reconnect, each one the server closes is opened again
 *   stall     PORT N KIND BYTES                   N uploads that send BYTES of their body, then stall;
 *                                                 KIND: form | multipart-field | multipart-file | put | put-small
 *   probe     PORT COUNT PATH                     a normal client: COUNT GETs on fresh connections, p50/p99
 * </pre>
 * Client addresses are 127.0.0.FIRST_ADDR and the ADDRS-1 after it, taken in turn. Every mode but probe runs until
 * killed and prints how many of its connections are open every 5 s.
 */
public class HostileHttp {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        switch (args[0]) {
            case "idle" -> hold(port, Integer.parseInt(args[2]), addrs(args[3], args[4]), null, 0, false);
            case "slowloris" -> hold(
                    port,
                    Integer.parseInt(args[2]),
                    addrs(args[3], args[4]),
                    "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.ISO_8859_1),
                    Integer.parseInt(args[5]) * 1000L,
                    args.length > 6 && args[6].equals("reconnect"));
            case "stall" -> stall(port, Integer.parseInt(args[2]), args[3], Long.parseLong(args[4]));
            case "probe" -> probe(port, Integer.parseInt(args[2]), args[3]);
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static List<InetAddress> addrs(String first, String count) throws IOException {
        List<InetAddress> out = new ArrayList<>();
        int f = Integer.parseInt(first);
        for (int i = 0; i < Integer.parseInt(count); i++) {
            int n = f + i;
            out.add(InetAddress.getByAddress(new byte[] {127, 0, (byte) (n / 250), (byte) (1 + n % 250)}));
        }
        return out;
    }

    /** Opens n connections and keeps them; with a header, trickles one more byte of it to each every interval. */
    private static void hold(
            int port, int n, List<InetAddress> from, byte[] header, long intervalMs, boolean reconnect)
            throws Exception {
        Selector selector = Selector.open();
        List<SocketChannel> open = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            open.add(connect(selector, from.get(i % from.size()), port));
        }
        System.out.printf("%d connections open after %d ms%n", n, (System.nanoTime() - t0) / 1_000_000);
        long nextByte = System.currentTimeMillis();
        long nextReport = System.currentTimeMillis() + 5000;
        int closed = 0;
        int reopened = 0;
        java.util.Map<SocketChannel, int[]> progress = new java.util.HashMap<>();
        open.forEach(c -> progress.put(c, new int[1]));
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (true) {
            selector.select(200);
            for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey k = it.next();
                it.remove();
                SocketChannel c = (SocketChannel) k.channel();
                buf.clear();
                int r;
                try {
                    r = c.read(buf);
                } catch (IOException e) {
                    r = -1;
                }
                if (r < 0) {
                    InetAddress local = ((InetSocketAddress) c.getLocalAddress()).getAddress();
                    k.cancel();
                    c.close();
                    progress.remove(c);
                    closed++;
                    if (reconnect) {
                        open.remove(c);
                        SocketChannel again = connect(selector, local, port);
                        open.add(again);
                        reopened++;
                        progress.put(again, new int[1]); // its header starts again from the first byte
                    }
                }
            }
            long now = System.currentTimeMillis();
            if (header != null && now >= nextByte) {
                for (SocketChannel c : open) {
                    int[] at = progress.get(c);
                    if (c.isOpen() && at != null) {
                        byte b = at[0] < header.length ? header[at[0]] : (byte) 'a';
                        at[0]++;
                        try {
                            c.write(ByteBuffer.wrap(new byte[] {b}));
                        } catch (IOException e) {
                            // closed by the server: the selector counts it
                        }
                    }
                }
                nextByte = now + intervalMs;
            }
            if (now >= nextReport) {
                System.out.printf(
                        "t=%ds open %d closed by the server %d reopened %d%n",
                        (System.nanoTime() - t0) / 1_000_000_000, n - closed + reopened, closed, reopened);
                nextReport = now + 5000;
            }
        }
    }

    private static SocketChannel connect(Selector selector, InetAddress from, int port) throws IOException {
        SocketChannel c = SocketChannel.open();
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.bind(new InetSocketAddress(from, 0));
        c.connect(new InetSocketAddress("127.0.0.1", port));
        c.configureBlocking(false);
        c.register(selector, SelectionKey.OP_READ);
        return c;
    }

    private static final String BOUNDARY = "b0undary";

    /** n uploads of one kind, each sending `bytes` of its body and then nothing; prints how many were answered. */
    private static void stall(int port, int n, String kind, long bytes) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        int[] answered = new int[1];
        List<String> statuses = Collections.synchronizedList(new ArrayList<>());
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'x');
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port));
            sockets.add(s);
            OutputStream out = s.getOutputStream();
            String head = switch (kind) {
                case "form" -> "POST /data/stall-" + i + " HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 67108864\r\n\r\ndata=";
                case "multipart-field", "multipart-file" -> "POST /data/stall-" + i + " HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: multipart/form-data; boundary=" + BOUNDARY
                        + "\r\nContent-Length: 67108864\r\n\r\n--" + BOUNDARY + "\r\nContent-Disposition: form-data; "
                        + (kind.equals("multipart-file")
                                ? "name=\"data\"; filename=\"f\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                                : "name=\"vname\"\r\n\r\n");
                case "put" -> "PUT /data/stall-" + i + " HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n";
                case "put-small" -> "PUT /data/stall-" + i + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n";
                default -> throw new IllegalArgumentException(kind);
            };
            try {
                out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                for (long left = bytes; left > 0; left -= chunk.length) {
                    out.write(chunk, 0, (int) Math.min(chunk.length, left));
                }
                out.flush();
            } catch (IOException refusedMidway) {
                // the server answered and closed before all was sent: read below
            }
            Thread reader = new Thread(() -> {
                try {
                    InputStream in = s.getInputStream();
                    byte[] b = new byte[512];
                    int r = in.read(b);
                    if (r > 0) {
                        String text = new String(b, 0, r, StandardCharsets.ISO_8859_1);
                        statuses.add(text.substring(0, Math.min(12, text.length())));
                        synchronized (answered) {
                            answered[0]++;
                        }
                    }
                } catch (IOException ignored) {
                    // reset: counted as not answered
                }
            });
            reader.setDaemon(true);
            reader.start();
        }
        System.out.printf("%d %s uploads sent %d bytes each in %d ms%n", n, kind, bytes, (System.nanoTime() - t0) / 1_000_000);
        while (true) {
            Thread.sleep(5000);
            java.util.Map<String, Integer> byStatus = new java.util.TreeMap<>();
            synchronized (statuses) {
                statuses.forEach(s -> byStatus.merge(s, 1, Integer::sum));
            }
            System.out.printf("t=%ds answered %d: %s%n", (System.nanoTime() - t0) / 1_000_000_000, answered[0], byStatus);
        }
    }

    /** A normal client: GETs on fresh connections, one after another; prints latency percentiles and failures. */
    private static void probe(int port, int count, String path) throws Exception {
        List<Long> ms = new ArrayList<>();
        int failed = 0;
        for (int i = 0; i < count; i++) {
            long t0 = System.nanoTime();
            try (Socket s = new Socket()) {
                s.setSoTimeout(30_000);
                s.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
                s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                InputStream in = s.getInputStream();
                byte[] b = new byte[8192];
                StringBuilder got = new StringBuilder();
                int r;
                while ((r = in.read(b)) > 0) {
                    got.append(new String(b, 0, r, StandardCharsets.ISO_8859_1));
                }
                if (!got.toString().startsWith("HTTP/1.1 200") && !got.toString().startsWith("HTTP/1.1 404")) {
                    failed++;
                    System.out.println("unexpected: " + got.substring(0, Math.min(80, got.length())));
                }
            } catch (IOException e) {
                failed++;
                System.out.println("failed: " + e);
            }
            ms.add((System.nanoTime() - t0) / 1_000_000);
            Thread.sleep(20);
        }
        Collections.sort(ms);
        System.out.printf(
                "%d GETs %s: failed %d, p50 %d ms, p99 %d ms, max %d ms%n",
                count, path, failed, ms.get(count / 2), ms.get((int) Math.ceil(count * 0.99) - 1), ms.get(count - 1));
    }
}
