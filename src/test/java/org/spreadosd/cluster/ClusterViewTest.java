package org.spreadosd.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How configurations reach a node's listeners. */
class ClusterViewTest {
    static ClusterConfig revision(long revision, String mdsUri) {
        return new ClusterConfig(revision, List.of(), Map.of(), Set.of(), mdsUri, "");
    }

    @Test
    void aListenerHearsEachRevisionOnce() {
        ClusterView view = new ClusterView();
        List<ClusterConfig> heard = new ArrayList<>();
        view.onChange(heard::add);
        view.update(revision(5, "jdbc:h2:tcp://a/spread"));
        view.update(revision(5, "jdbc:h2:tcp://a/spread"));
        view.update(revision(5, "jdbc:h2:tcp://b/spread"));
        view.update(revision(4, "jdbc:h2:tcp://c/spread"));
        view.when(c -> true).join();
        assertEquals(List.of(revision(5, "jdbc:h2:tcp://a/spread")), heard);
        assertEquals(revision(5, "jdbc:h2:tcp://a/spread"), view.config());
    }

    /** The subscriber actor, a start-up waiter and the saved copy all feed the view, from their own threads. */
    @Test
    void configurationsFedFromManyThreadsReachAListenerOnceEachInRevisionOrder() throws Exception {
        int feeders = 8;
        int revisions = 300;
        ClusterView view = new ClusterView();
        List<Long> heard = new CopyOnWriteArrayList<>();
        view.onChange(c -> heard.add(c.revision()));
        ExecutorService pool = Executors.newFixedThreadPool(feeders);
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int f = 0; f < feeders; f++) {
            done.add(CompletableFuture.runAsync(
                    () -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        for (long r = 1; r <= revisions; r++) {
                            view.update(revision(r, "jdbc:h2:tcp://host-" + r + "/spread"));
                        }
                    },
                    pool));
        }
        go.countDown();
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        pool.shutdown();

        for (int i = 1; i < heard.size(); i++) {
            int at = i;
            assertTrue(
                    heard.get(i) > heard.get(i - 1),
                    () -> "heard revision " + heard.get(at) + " after " + heard.get(at - 1));
        }
        assertEquals(revisions, heard.get(heard.size() - 1));
    }
}
