package dev.redoubt.wal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log's one background worker: every {@link WalOptions#asyncFlushIntervalMillis()} (or when an append
 * asks through {@link #wake()}) it writes and fsyncs whatever is pending, which bounds the loss window of
 * {@code ASYNC} appends and completes futures nobody waits on synchronously; then it preallocates the next
 * segment if the active one is half full.
 */
final class WalFlusher implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WalFlusher.class);

    private final LogWriter writer;
    private final long intervalNanos;
    private final boolean preallocate;
    private final Thread thread;
    private volatile boolean running = true;

    WalFlusher(LogWriter writer, WalOptions options, String name) {
        this.writer = writer;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(options.asyncFlushIntervalMillis());
        this.preallocate = options.preallocateInBackground();
        this.thread = new Thread(this, name);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void wake() {
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (running) {
            LockSupport.parkNanos(this, intervalNanos);
            if (!running) {
                break;
            }
            writer.backgroundFlush();
            if (preallocate) {
                try {
                    writer.prepareNextSegmentIfDue();
                } catch (Exception e) {
                    // Not fatal: the roll creates the segment itself and reports any error to its appender.
                    LOG.warn("preallocating the next WAL segment failed; the roll will retry: {}", e.toString());
                }
            }
        }
    }

    void stop() throws InterruptedException {
        running = false;
        LockSupport.unpark(thread);
        thread.join(TimeUnit.SECONDS.toMillis(30));
    }
}
