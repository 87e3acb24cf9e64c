package org.spreadosd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.spreadosd.cs.ConfigServer;
import org.spreadosd.cs.ConfigSubscriber;
import org.spreadosd.util.DurableFiles;

/**
 * The configuration subscriber keeps its copy on disk without waiting for the disk: while a save of the copy hangs in
 * its fsync, the subscriber goes on taking configurations into the node's view, and the saves that follow run in
 * revision order with the newest last (ActorTestKit, the copy on a real disk).
 */
class ConfigCopySavingTest {
    @TempDir
    Path dir;

    final ActorTestKit kit = ActorTestKit.create(
            ConfigFactory.parseString("pekko.actor.provider = local").withFallback(ConfigFactory.load()));
    final ExecutorService disk = Executors.newSingleThreadExecutor();

    @AfterEach
    void stop() {
        disk.shutdownNow();
        kit.shutdownTestKit();
    }

    @Test
    void theSubscriberTakesInConfigurationsWhileASaveWaitsOnTheDisk() throws Exception {
        CountDownLatch firstForce = new CountDownLatch(1);
        CountDownLatch diskAnswers = new CountDownLatch(1);
        List<Long> saved = Collections.synchronizedList(new ArrayList<>());
        DurableFiles.Sync stallingDisk = new DurableFiles.Sync() {
            @Override
            public void file(FileChannel ch, boolean withMetadata) throws IOException {
                firstForce.countDown();
                try {
                    diskAnswers.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                DurableFiles.DISK_SYNC.file(ch, withMetadata);
            }

            @Override
            public void directory(Path d) throws IOException {
                DurableFiles.DISK_SYNC.directory(d);
                // forced after the rename: the copy now on disk is the one this save made
                savedRevision().ifPresent(saved::add);
            }
        };
        ClusterView view = new ClusterView();
        ConfigCopy copy = new ConfigCopy(dir, new DurableFiles(stallingDisk), disk);
        TestProbe<ConfigServer.Command> cs = kit.createTestProbe();
        ActorRef<ClusterConfig> subscriber = kit.spawn(ConfigSubscriber.create(cs.ref(), view, copy), "cluster-view");
        cs.expectMessageClass(ConfigServer.Subscribe.class, Duration.ofSeconds(20));

        subscriber.tell(config(1));
        assertTrue(firstForce.await(20, TimeUnit.SECONDS), "the save of revision 1 reached its fsync");
        subscriber.tell(config(2));
        subscriber.tell(config(3));
        await(() -> view.config().revision() == 3, "revision 3 in the view while the disk stalls");

        diskAnswers.countDown();
        await(() -> savedRevision().orElse(0L) == 3, "revision 3 saved once the disk answers");
        List<Long> order = List.copyOf(saved);
        assertEquals(1L, order.get(0), order::toString);
        assertEquals(3L, order.get(order.size() - 1), order::toString);
        for (int i = 1; i < order.size(); i++) {
            assertTrue(order.get(i) > order.get(i - 1), "saves in revision order: " + order);
        }
    }

    private Optional<Long> savedRevision() {
        return new ConfigCopy(dir).load(LoggerFactory.getLogger("test")).map(ClusterConfig::revision);
    }

    private static ClusterConfig config(long revision) {
        return new ClusterConfig(revision, List.of(), Map.of(), Set.of());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
