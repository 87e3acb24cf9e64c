package org.spreadosd.mds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.spreadosd.cluster.ClusterConfig;
import org.spreadosd.cluster.ClusterView;
import org.spreadosd.model.VersionClock;

/**
 * Switches of the metadata store as configurations name them, fed through a node's {@link ClusterView}; the
 * stores are real in-memory H2 databases, and opening the one named "slow" waits until the test lets it.
 */
class SwitchingMetadataStoreTest {
    static final String A = "jdbc:h2:mem:switch-a;DB_CLOSE_DELAY=-1";
    static final String SLOW = "jdbc:h2:mem:switch-slow;DB_CLOSE_DELAY=-1";
    static final String C = "jdbc:h2:mem:switch-c;DB_CLOSE_DELAY=-1";

    final ExecutorService blocking = Executors.newFixedThreadPool(8);
    final CountDownLatch slowOpening = new CountDownLatch(1);
    final CountDownLatch letSlowOpen = new CountDownLatch(1);
    final Set<String> closed = ConcurrentHashMap.newKeySet();
    final ClusterView view = new ClusterView();
    SwitchingMetadataStore store;

    /** Opens a real store; the slow one only once the test lets it; every close is noted. */
    MetadataStore open(String url) {
        if (url.equals(SLOW)) {
            slowOpening.countDown();
            try {
                letSlowOpen.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        MetadataStore real = new JdbcMetadataStore(url, 2, VersionClock.system());
        return (MetadataStore) Proxy.newProxyInstance(
                MetadataStore.class.getClassLoader(), new Class<?>[] {MetadataStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        closed.add(url);
                    }
                    return method.invoke(real, args);
                });
    }

    void startOn(String url) {
        store = new SwitchingMetadataStore(url, this::open, blocking);
        view.onChange(c -> store.switchTo(c.revision(), c.mdsUri()));
    }

    void configure(long revision, String mdsUri) {
        view.update(new ClusterConfig(revision, List.of(), Map.of(), Set.of(), mdsUri, ""));
    }

    @AfterEach
    void stop() {
        letSlowOpen.countDown();
        blocking.shutdownNow();
        if (store != null) {
            store.close();
        }
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void aSwitchBackWhileTheFirstOpenIsSlowEndsOnTheNewestUri() throws Exception {
        startOn(A);
        configure(2, SLOW);
        assertTrue(slowOpening.await(60, TimeUnit.SECONDS));
        configure(3, A);
        letSlowOpen.countDown();
        await(
                "the slow store is either in use or closed",
                () -> closed.contains(SLOW) || SLOW.equals(store.currentUrl()));
        assertEquals(A, store.currentUrl(), "revision 3 names A");
        store.reserve("k".getBytes(StandardCharsets.UTF_8), () -> 0);
    }

    @Test
    void twoSwitchesBackToBackWhereTheFirstOpenIsSlowEndOnTheSecond() throws Exception {
        startOn(A);
        configure(2, SLOW);
        assertTrue(slowOpening.await(60, TimeUnit.SECONDS));
        configure(3, C);
        letSlowOpen.countDown();
        await("the store of revision 3 is in use", () -> C.equals(store.currentUrl()));
        assertTrue(closed.contains(SLOW), "the store revision 3 overtook was closed");
    }

    @Test
    void anOlderRevisionArrivingLateIsIgnored() throws Exception {
        startOn(A);
        store.switchTo(5, C);
        store.switchTo(4, SLOW);
        await("revision 5's store is in use", () -> C.equals(store.currentUrl()));
        assertEquals(1, slowOpening.getCount(), "revision 4 was never opened");
    }
}
