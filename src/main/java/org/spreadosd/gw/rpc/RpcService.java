package org.spreadosd.gw.rpc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.util.ByteString;
import org.msgpack.value.Value;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ConfigShapes;
import org.spreadosd.ds.BlobBody;
import org.spreadosd.ds.BlobStreamClient.BlobDownload;
import org.spreadosd.edge.BudgetReservation;
import org.spreadosd.edge.ClientBufferBudget;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.Gateway;
import org.spreadosd.model.Attributes;
import org.spreadosd.model.ObjectKey;
import org.spreadosd.model.Selector;
import org.spreadosd.model.VersionRecord;
import org.spreadosd.rpc.ProcessStats;
import org.spreadosd.rpc.ReservedBytes;
import org.spreadosd.rpc.RpcArgs;
import org.spreadosd.rpc.RpcHandler;

/**
 * The methods of rpc-api.md over the {@link Gateway}, with the original argument order and result
 * shapes. Data travels whole inside RPC messages by the protocol's design, bounded by the
 * server's maximum message size.
 *
 * <p>Object bytes are held once: an added object's data is a slice of its request (counted in the node's buffer
 * budget with the request), and a version read for an answer is reserved from the budget by its size before a byte
 * of it is read (refused with the budget's message, the client may retry), kept as the {@link ByteString} it arrives
 * in and written into the answer without a copy ({@link ReservedBytes}).
 */
public final class RpcService implements RpcHandler {
    private final Gateway gateway;
    private final Materializer mat;
    private final long maxDataBytes;
    private final ProcessStats processStats;
    private final LongSupplier storedItems;
    private final Supplier<Map<String, Object>> replication;
    private final ClientBufferBudget budget;

    /**
     * @param storedItems versions held by this node's data store ({@code stat db_items}); null on a pure gateway,
     *     which answers the metadata store's count of versions instead
     * @param replication this data server's replication progress ({@code stat replication}); null on a pure gateway
     * @param budget the node's client buffer budget, from which the bytes of versions read for answers are reserved
     */
    public RpcService(
            Gateway gateway,
            Materializer mat,
            long maxDataBytes,
            String csAddress,
            LongSupplier storedItems,
            Supplier<Map<String, Object>> replication,
            ClientBufferBudget budget) {
        this.budget = budget;
        this.storedItems = storedItems;
        this.replication = replication;
        this.gateway = gateway;
        this.mat = mat;
        this.maxDataBytes = maxDataBytes;
        this.processStats = new ProcessStats(csAddress);
    }

    @Override
    public boolean serves(String method) {
        return true;
    }

    @Override
    public CompletionStage<Object> call(String method, List<Value> params) {
        RpcArgs a = new RpcArgs(method, params);
        return switch (method) {
            case "get" -> {
                a.expectCount(1);
                yield both(a.raw(0), Selector.HEAD);
            }
            case "get_data" -> {
                a.expectCount(1);
                yield data(a.raw(0), Selector.HEAD, 0, -1);
            }
            case "get_attrs" -> {
                a.expectCount(1);
                yield attrs(a.raw(0), Selector.HEAD);
            }
            case "read" -> {
                a.expectCount(3);
                yield data(a.raw(0), Selector.HEAD, a.nonNegative(1, "offset"), a.nonNegative(2, "size"));
            }
            case "gett" -> {
                a.expectCount(2);
                yield both(a.raw(1), Selector.atTime(a.integer(0)));
            }
            case "gett_data" -> {
                a.expectCount(2);
                yield data(a.raw(1), Selector.atTime(a.integer(0)), 0, -1);
            }
            case "gett_attrs" -> {
                a.expectCount(2);
                yield attrs(a.raw(1), Selector.atTime(a.integer(0)));
            }
            case "readt" -> {
                a.expectCount(4);
                yield data(
                        a.raw(1), Selector.atTime(a.integer(0)), a.nonNegative(2, "offset"), a.nonNegative(3, "size"));
            }
            case "getv" -> {
                a.expectCount(2);
                yield both(a.raw(1), Selector.named(a.raw(0)));
            }
            case "getv_data" -> {
                a.expectCount(2);
                yield data(a.raw(1), Selector.named(a.raw(0)), 0, -1);
            }
            case "getv_attrs" -> {
                a.expectCount(2);
                yield attrs(a.raw(1), Selector.named(a.raw(0)));
            }
            case "readv" -> {
                a.expectCount(4);
                yield data(a.raw(1), Selector.named(a.raw(0)), a.nonNegative(2, "offset"), a.nonNegative(3, "size"));
            }
            case "getd_data" -> {
                a.expectCount(1);
                yield direct(a.okey(0), 0, -1);
            }
            case "readd" -> {
                a.expectCount(3);
                yield direct(a.okey(0), a.nonNegative(1, "offset"), a.nonNegative(2, "size"));
            }
            case "add" -> {
                a.expectCount(3);
                yield add(a.raw(0), a.bytes(1), null, a.attrs(2));
            }
            case "add_data" -> {
                a.expectCount(2);
                yield add(a.raw(0), a.bytes(1), null, Attributes.EMPTY);
            }
            case "addv" -> {
                a.expectCount(4);
                yield add(a.raw(1), a.bytes(2), a.raw(0), a.attrs(3));
            }
            case "addv_data" -> {
                a.expectCount(3);
                yield add(a.raw(1), a.bytes(2), a.raw(0), Attributes.EMPTY);
            }
            case "update_attrs" -> {
                a.expectCount(2);
                yield gateway.updateAttrs(a.raw(0), a.attrs(1)).thenApply(o -> o.orElse(null));
            }
            case "remove" -> {
                a.expectCount(1);
                yield gateway.remove(a.raw(0)).thenApply(o -> (Object) o.isPresent());
            }
            case "delete" -> {
                a.expectCount(1);
                yield delete(a.raw(0), Selector.HEAD);
            }
            case "deletet" -> {
                a.expectCount(2);
                yield delete(a.raw(1), Selector.atTime(a.integer(0)));
            }
            case "deletev" -> {
                a.expectCount(2);
                yield delete(a.raw(1), Selector.named(a.raw(0)));
            }
            case "url" -> {
                a.expectCount(1);
                yield url(a.raw(0), Selector.HEAD);
            }
            case "urlt" -> {
                a.expectCount(2);
                yield url(a.raw(1), Selector.atTime(a.integer(0)));
            }
            case "urlv" -> {
                a.expectCount(2);
                yield url(a.raw(1), Selector.named(a.raw(0)));
            }
            case "util_locate" -> {
                a.expectCount(1);
                yield locate(a.raw(0));
            }
            case "stat" -> {
                a.expectCount(1);
                yield stat(a.text(0));
            }
            default -> throw new SpreadFailure(FailureCode.BAD_REQUEST, "unknown method '" + method + "'");
        };
    }

    private CompletionStage<Object> both(byte[] key, Selector selector) {
        return gateway.find(key, selector)
                .thenCompose(found -> found.isEmpty()
                        ? done(Arrays.asList(null, null))
                        : bytes(found.get(), 0, -1)
                                .thenApply(
                                        data -> Arrays.asList(data, found.get().attrs())));
    }

    private CompletionStage<Object> attrs(byte[] key, Selector selector) {
        return gateway.find(key, selector)
                .thenApply(found -> found.<Object>map(VersionRecord::attrs).orElse(null));
    }

    private CompletionStage<Object> data(byte[] key, Selector selector, long offset, long size) {
        return gateway.find(key, selector)
                .thenCompose(found -> found.isEmpty() ? done(null) : bytes(found.get(), offset, size));
    }

    private CompletionStage<Object> bytes(VersionRecord v, long offset, long size) {
        long start = Math.min(offset, v.size());
        long length = size < 0 ? v.size() - start : Math.min(size, v.size() - start);
        if (length == 0) {
            return done(new byte[0]);
        }
        if (length > maxDataBytes) {
            throw new SpreadFailure(
                    FailureCode.BAD_REQUEST,
                    "the version is " + v.size() + " bytes, more than one RPC message may carry (" + maxDataBytes
                            + "); read it in parts with read, readt or readv, or over HTTP");
        }
        BudgetReservation reserved = reserve(length);
        return held(reserved, () -> gateway.open(v, start, length).thenCompose(this::collect));
    }

    /** Reserves the bytes of a version about to be read for an answer, before any of them is read. */
    private BudgetReservation reserve(long bytes) {
        BudgetReservation reserved = BudgetReservation.tryReserve(budget, bytes);
        if (reserved == null) {
            throw new SpreadFailure(FailureCode.UNAVAILABLE, budget.spentMessage(bytes));
        }
        return reserved;
    }

    /** The bytes {@code read} collects, under {@code reserved}; given back if they never come. */
    private static CompletionStage<Object> held(
            BudgetReservation reserved, Supplier<CompletionStage<ByteString>> read) {
        CompletionStage<ByteString> bytes;
        try {
            bytes = read.get();
        } catch (RuntimeException e) {
            reserved.release();
            throw e;
        }
        return bytes.whenComplete((b, e) -> {
                    if (e != null) {
                        reserved.release();
                    }
                })
                .thenApply(b -> new ReservedBytes(b, reserved));
    }

    private CompletionStage<Object> direct(ObjectKey okey, long offset, long size) {
        long length = size < 0 ? maxDataBytes + 1 : size;
        return gateway.open(okey, offset, length)
                .thenCompose(d -> {
                    if (d.length() > maxDataBytes) {
                        d.data().runWith(Sink.cancelled(), mat);
                        throw new SpreadFailure(
                                FailureCode.BAD_REQUEST,
                                "the version is larger than one RPC message may carry; use readd");
                    }
                    BudgetReservation reserved;
                    try {
                        reserved = reserve(d.length());
                    } catch (SpreadFailure busy) {
                        d.data().runWith(Sink.cancelled(), mat);
                        throw busy;
                    }
                    return held(reserved, () -> collect(d));
                })
                .exceptionally(e -> {
                    if (SpreadFailure.is(e, FailureCode.NOT_FOUND)) {
                        return null;
                    }
                    throw SpreadFailure.unwrap(e);
                });
    }

    /** The download's bytes as they arrive (concatenated: no copy). */
    private CompletionStage<ByteString> collect(BlobDownload download) {
        if (download.body().isWhole()) {
            return CompletableFuture.completedFuture(download.body().bytes());
        }
        return download.data().runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), mat);
    }

    private CompletionStage<Object> add(byte[] key, ByteString data, byte[] vname, Attributes attrs) {
        return gateway.add(key, BlobBody.of(data), null, vname, attrs).thenApply(VersionRecord::objectKey);
    }

    private CompletionStage<Object> delete(byte[] key, Selector selector) {
        return gateway.delete(key, selector).thenApply(d -> (Object) d.isPresent());
    }

    private CompletionStage<Object> url(byte[] key, Selector selector) {
        return gateway.url(key, selector).thenApply(u -> u.orElse(null));
    }

    /** {@code [OKey, vname, nids holding the bytes]} per live version; the original answered the first two. */
    private CompletionStage<Object> locate(byte[] key) {
        return gateway.locate(key).thenApply(located -> {
            List<Object> out = new ArrayList<>();
            for (var l : located) {
                List<Long> holders = l.holders().stream()
                        .filter(h -> h.held())
                        .map(h -> (long) h.node().nid())
                        .toList();
                out.add(Arrays.asList(l.version().objectKey(), l.version().vname(), holders));
            }
            return out;
        });
    }

    private CompletionStage<Object> stat(String cmd) {
        Optional<Object> common = processStats.answer(cmd);
        if (common.isPresent()) {
            return done(common.get());
        }
        ClusterConfig config = gateway.config();
        long[] counters = gateway.counters();
        return switch (cmd) {
            case "nodes" -> done(ConfigShapes.nodes(config));
            case "fault" -> done(ConfigShapes.fault(config));
            case "replset" -> done(ConfigShapes.replsets(config));
            case "db_items" ->
                storedItems != null
                        ? done(storedItems.getAsLong())
                        : gateway.countVersions().thenApply(n -> (Object) n);
            case "replication" -> {
                if (replication == null) {
                    throw new SpreadFailure(
                            FailureCode.BAD_REQUEST, "stat replication: this node is a gateway without data");
                }
                yield done(replication.get());
            }
            case "replication_state" ->
                done(replication == null ? "-" : replication.get().get("state"));
            case "cmd_read" -> done(counters[0]);
            case "cmd_write" -> done(counters[1]);
            case "cmd_delete" -> done(counters[2]);
            default ->
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST,
                        "unknown stat cmd '" + cmd + "': use uptime, time, pid, version, cs_address,"
                                + " nodes, fault, replset, db_items, replication, replication_state, cmd_read, cmd_write or cmd_delete");
        };
    }

    private static CompletionStage<Object> done(Object o) {
        return CompletableFuture.completedFuture(o);
    }
}
