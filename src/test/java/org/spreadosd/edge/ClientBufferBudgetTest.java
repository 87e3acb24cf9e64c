package org.spreadosd.edge;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ClientBufferBudgetTest {
    @Test
    void aReservationBeyondWhatIsLeftFailsAndIsCountedWhileSmallerOnesStillFit() {
        ClientBufferBudget budget = new ClientBufferBudget(100);
        assertTrue(budget.tryReserve(60));

        assertFalse(budget.tryReserve(41));
        assertTrue(budget.tryReserve(40));

        assertEquals(100, budget.used());
        assertEquals(1, budget.refusals());
        assertTrue(budget.spentMessage(41).contains("41 more bytes"), budget.spentMessage(41));
        assertTrue(budget.spentMessage(41).contains("100 of 100"), budget.spentMessage(41));
        assertTrue(budget.spentMessage(41).contains(ClientBufferBudget.SETTING), budget.spentMessage(41));
    }

    @Test
    void releasedBytesCanBeReservedAgain() {
        ClientBufferBudget budget = new ClientBufferBudget(10);
        budget.tryReserve(10);
        budget.release(4);
        assertTrue(budget.tryReserve(4));
        assertFalse(budget.tryReserve(1));
    }

    @Test
    void concurrentHoldersNeverTogetherExceedTheLimit() throws Exception {
        ClientBufferBudget budget = new ClientBufferBudget(1000);
        AtomicLong highest = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        for (int t = 0; t < 8; t++) {
            pool.submit(() -> {
                for (int i = 0; i < 20_000; i++) {
                    if (budget.tryReserve(7)) {
                        highest.accumulateAndGet(budget.used(), Math::max);
                        budget.release(7);
                    }
                }
            });
        }
        pool.shutdown();
        assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS));

        assertTrue(highest.get() <= 1000, "highest " + highest.get());
        assertEquals(0, budget.used());
    }
}
