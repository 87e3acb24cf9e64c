package org.spreadosd.cs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;
import org.msgpack.value.Value;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ConfigShapes;
import org.spreadosd.failure.FailureCode;
import org.spreadosd.failure.SpreadFailure;
import org.spreadosd.gw.VersionLocator;
import org.spreadosd.rpc.ProcessStats;
import org.spreadosd.rpc.RpcArgs;
import org.spreadosd.rpc.RpcHandler;

/**
 * The config server's MessagePack-RPC methods on port 18700, as the original CS had them, so that
 * {@code spreadctl} and old admin tools keep working: {@code stat}, {@code remove_node},
 * {@code set_replset_weight}, {@code reset_replset_weight}, {@code set_write_policy}, {@code reset_write_policy}, {@code get_mds_uri}, {@code set_mds_uri},
 * {@code get_mds_cache_uri}, {@code set_mds_cache_uri}, and {@code locate} (versions with the nodes holding them).
 */
public final class ConfigRpc implements RpcHandler {
    private static final Set<String> METHODS = Set.of(
            "stat",
            "remove_node",
            "set_replset_weight",
            "reset_replset_weight",
            "set_write_policy",
            "reset_write_policy",
            "get_mds_uri",
            "set_mds_uri",
            "get_mds_cache_uri",
            "set_mds_cache_uri",
            "locate");
    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

    private final ActorRef<ConfigServer.Command> configServer;
    private final Scheduler scheduler;
    private final VersionLocator locator;
    private final ProcessStats processStats;
    /** Answers the stat cmds this config server does not know (a standalone node's data server counters). */
    private volatile RpcHandler otherStats;

    public ConfigRpc(
            ActorRef<ConfigServer.Command> configServer,
            Scheduler scheduler,
            VersionLocator locator,
            String csAddress) {
        this.configServer = configServer;
        this.scheduler = scheduler;
        this.locator = locator;
        this.processStats = new ProcessStats(csAddress);
    }

    /** On a node that is also a gateway: stat cmds the config server does not know go to {@code gateway}. */
    public RpcHandler withGateway(RpcHandler gateway) {
        otherStats = gateway;
        return RpcHandler.both(this, gateway);
    }

    @Override
    public boolean serves(String method) {
        return METHODS.contains(method);
    }

    @Override
    public CompletionStage<Object> call(String method, List<Value> params) {
        RpcArgs a = new RpcArgs(method, params);
        return switch (method) {
            case "stat" -> {
                a.expectCount(1);
                yield stat(a.text(0), params);
            }
            case "remove_node" -> {
                a.expectCount(1);
                yield removeNode(toInt(a.integer(0), "nid"));
            }
            case "set_replset_weight" -> {
                a.expectCount(2);
                yield setWeight(toInt(a.integer(0), "rsid"), toInt(a.nonNegative(1, "weight"), "weight"));
            }
            case "reset_replset_weight" -> {
                a.expectCount(1);
                yield setWeight(toInt(a.integer(0), "rsid"), null);
            }
            case "set_write_policy" -> {
                a.expectCount(2);
                yield setWritePolicy(toInt(a.integer(0), "rsid"), a.text(1));
            }
            case "reset_write_policy" -> {
                a.expectCount(1);
                yield setWritePolicy(toInt(a.integer(0), "rsid"), null);
            }
            case "get_mds_uri" -> {
                a.expectCount(0);
                yield config().thenApply(ClusterConfig::mdsUri);
            }
            case "get_mds_cache_uri" -> {
                a.expectCount(0);
                yield config().thenApply(ClusterConfig::mdsCacheUri);
            }
            case "set_mds_uri" -> {
                a.expectCount(1);
                yield setMds(a.text(0), null);
            }
            case "set_mds_cache_uri" -> {
                a.expectCount(1);
                yield setMds(null, a.text(0));
            }
            case "locate" -> {
                a.expectCount(1);
                yield locate(a.raw(0));
            }
            default -> throw new SpreadFailure(FailureCode.BAD_REQUEST, "unknown method '" + method + "'");
        };
    }

    private CompletionStage<Object> stat(String cmd, List<Value> params) {
        Optional<Object> common = processStats.answer(cmd);
        if (common.isPresent()) {
            return done(common.get());
        }
        return switch (cmd) {
            case "nodes" -> config().thenApply(ConfigShapes::nodes);
            case "fault" -> config().thenApply(ConfigShapes::fault);
            case "replset" -> config().thenApply(ConfigShapes::replsets);
            case "mds" -> config().thenApply(ClusterConfig::mdsUri);
            case "mds_cache" -> config().thenApply(ClusterConfig::mdsCacheUri);
            case "revision" -> config().thenApply(ClusterConfig::revision);
            default -> {
                if (otherStats != null) {
                    yield otherStats.call("stat", params);
                }
                throw new SpreadFailure(
                        FailureCode.BAD_REQUEST,
                        "unknown stat cmd '" + cmd
                                + "': use uptime, time, pid, version, cs_address, nodes, fault, replset, mds, mds_cache or revision");
            }
        };
    }

    private CompletionStage<Object> removeNode(int nid) {
        return AskPattern.<ConfigServer.Command, ConfigServer.Outcome>ask(
                        configServer, replyTo -> new ConfigServer.RemoveNode(nid, replyTo), ASK_TIMEOUT, scheduler)
                .thenApply(outcome -> {
                    if (outcome.error() != null) {
                        throw new SpreadFailure(FailureCode.BAD_REQUEST, outcome.error());
                    }
                    return true;
                });
    }

    private CompletionStage<Object> setWeight(int rsid, Integer weight) {
        return change(replyTo -> new ConfigServer.SetWeight(rsid, weight, replyTo));
    }

    private CompletionStage<Object> setWritePolicy(int rsid, String policy) {
        return change(replyTo -> new ConfigServer.SetWritePolicy(rsid, policy, replyTo));
    }

    private CompletionStage<Object> setMds(String mdsUri, String cacheUri) {
        return change(replyTo -> new ConfigServer.SetMds(mdsUri, cacheUri, replyTo));
    }

    /** A change the config server checks first: its refusal is the caller's error. */
    private CompletionStage<Object> change(
            Function<ActorRef<StatusReply<ClusterConfig>>, ConfigServer.Command> message) {
        return AskPattern.askWithStatus(configServer, message::apply, ASK_TIMEOUT, scheduler)
                .handle((config, e) -> {
                    if (e == null) {
                        return true;
                    }
                    if (SpreadFailure.cause(e) instanceof StatusReply.ErrorMessage refused) {
                        throw new SpreadFailure(FailureCode.BAD_REQUEST, refused.getMessage());
                    }
                    throw SpreadFailure.unwrap(e);
                });
    }

    private CompletionStage<Object> locate(byte[] key) {
        return config().thenCompose(config -> locator.locate(key, config)).thenApply(found -> {
            List<Object> out = new ArrayList<>();
            for (VersionLocator.Located l : found) {
                List<Object> holders = new ArrayList<>();
                for (VersionLocator.Holder h : l.holders()) {
                    holders.add(List.of((long) h.node().nid(), h.node().name(), h.held()));
                }
                out.add(Arrays.asList(l.version().objectKey(), l.version().vname(), holders));
            }
            return out;
        });
    }

    private CompletionStage<ClusterConfig> config() {
        return ask(ConfigServer.GetConfig::new);
    }

    private CompletionStage<ClusterConfig> ask(Function<ActorRef<ClusterConfig>, ConfigServer.Command> message) {
        return AskPattern.ask(configServer, message::apply, ASK_TIMEOUT, scheduler);
    }

    private static int toInt(long n, String what) {
        if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new SpreadFailure(FailureCode.BAD_REQUEST, what + " out of range: " + n);
        }
        return (int) n;
    }

    private static CompletionStage<Object> done(Object o) {
        return CompletableFuture.completedFuture(o);
    }
}
