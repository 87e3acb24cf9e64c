package org.spreadosd.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class GroupSyncTest {

    @Test
    void callersArrivingDuringASyncShareTheNextOneAndNoneReturnsBeforeASyncThatBeganAfterIt() throws Exception {
        CountDownLatch firstSyncRunning = new CountDownLatch(1);
        CountDownLatch releaseFirstSync = new CountDownLatch(1);
        AtomicInteger syncs = new AtomicInteger();
        AtomicInteger laterDoneWhenSecondSyncBegan = new AtomicInteger(-1);
        AtomicInteger returned = new AtomicInteger();
        AtomicInteger laterReturned = new AtomicInteger();
        GroupSync sync = new GroupSync(() -> {
            int n = syncs.incrementAndGet();
            if (n == 1) {
                firstSyncRunning.countDown();
                releaseFirstSync.await();
            } else if (n == 2) {
                laterDoneWhenSecondSyncBegan.set(laterReturned.get());
            }
        });

        CompletableFuture<Void> first = CompletableFuture.runAsync(() -> await(sync, returned), newThread());
        assertTrue(firstSyncRunning.await(10, TimeUnit.SECONDS));
        List<CompletableFuture<Void>> later = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            later.add(CompletableFuture.runAsync(
                    () -> {
                        await(sync, returned);
                        laterReturned.incrementAndGet();
                    },
                    newThread()));
        }
        // Wait until all eight hold a ticket: they arrived while the first sync was running.
        while (sync.ticketsHandedOut() < 9) {
            Thread.onSpinWait();
        }
        assertEquals(0, returned.get(), "nobody returns while the sync meant to cover them has not finished");
        releaseFirstSync.countDown();
        first.get(10, TimeUnit.SECONDS);
        for (CompletableFuture<Void> f : later) {
            f.get(10, TimeUnit.SECONDS);
        }
        assertEquals(2, syncs.get(), "one sync for the first caller, one shared by the eight that came during it");
        // Counted apart from the first caller, which may or may not have resumed when the second sync begins.
        assertEquals(
                0,
                laterDoneWhenSecondSyncBegan.get(),
                "the eight were still waiting when the sync that covers them began");
    }

    @Test
    void aFailedSyncFailsItsCallerAndTheNextCallerSyncsAgain() throws Exception {
        IOException broken = new IOException("disk gone");
        AtomicInteger syncs = new AtomicInteger();
        GroupSync sync = new GroupSync(() -> {
            if (syncs.incrementAndGet() == 1) {
                throw broken;
            }
        });
        assertSame(broken, assertThrows(IOException.class, sync::await));
        sync.await();
        assertEquals(2, syncs.get());
    }

    private static Executor newThread() {
        return r -> new Thread(r).start();
    }

    private static void await(GroupSync sync, AtomicInteger returned) {
        try {
            sync.await();
            returned.incrementAndGet();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
