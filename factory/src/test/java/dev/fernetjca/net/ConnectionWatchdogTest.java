package dev.fernetjca.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConnectionWatchdogTest {
    @Test
    void aCancelledDeadlineLeavesTheQueueAtOnce() {
        ScheduledExecutorService watchdog = Connection.watchdog("test-watchdog");
        try {
            Object connection = new Object(); // what a deadline's task keeps reachable while it is queued
            ScheduledFuture<?> deadline = watchdog.schedule(connection::notify, 1, TimeUnit.HOURS);
            assertEquals(1, ((ScheduledThreadPoolExecutor) watchdog).getQueue().size());
            deadline.cancel(false);
            assertTrue(((ScheduledThreadPoolExecutor) watchdog).getQueue().isEmpty());
        } finally {
            watchdog.shutdownNow();
        }
    }

    @Test
    void deadlinesRunOnADaemonThreadOfTheGivenName() throws InterruptedException {
        ScheduledExecutorService watchdog = Connection.watchdog("test-watchdog");
        try {
            CountDownLatch ran = new CountDownLatch(1);
            String[] name = new String[1];
            boolean[] daemon = new boolean[1];
            watchdog.schedule(
                    () -> {
                        name[0] = Thread.currentThread().getName();
                        daemon[0] = Thread.currentThread().isDaemon();
                        ran.countDown();
                    },
                    1,
                    TimeUnit.MILLISECONDS);
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            assertEquals("test-watchdog", name[0]);
            assertTrue(daemon[0]);
        } finally {
            watchdog.shutdownNow();
        }
    }
}
