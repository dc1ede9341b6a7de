package dev.redoubt.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Db's background work: one thread flushes immutable memtables, oldest first; another runs compactions
 * while a level is over its target. Two owners, one job each, so that a long compaction never holds up a
 * flush (writers would stall behind it). A failure of either is recorded in the engine, which then refuses
 * writes until reopened (RocksDB's background error); nothing is retried blindly.
 */
final class BackgroundWork {
    private static final Logger LOG = LoggerFactory.getLogger(BackgroundWork.class);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** A worker: a loop that runs its job until the job finds nothing to do, then parks. */
    private final class Worker implements Runnable {
        private final Thread thread;
        private final Job job;
        private final Object quiet = new Object();
        private long idleRounds;

        Worker(String name, Job job) {
            this.job = job;
            this.thread = new Thread(this, name);
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            while (running) {
                try {
                    if (!job.runOnce()) {
                        synchronized (quiet) {
                            idleRounds++;
                            quiet.notifyAll();
                        }
                        LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                    }
                } catch (Throwable e) {
                    LOG.error("background {} failed; the database refuses writes until reopened", thread.getName(), e);
                    engine.backgroundFailed(e);
                    running = false;
                    wake();
                }
            }
            synchronized (quiet) {
                quiet.notifyAll();
            }
        }

        /** Returns once this worker has found nothing to do at least once after the call. */
        void awaitIdle() {
            synchronized (quiet) {
                long target = idleRounds + 2;
                while (idleRounds < target && running && thread.isAlive()) {
                    LockSupport.unpark(thread);
                    try {
                        quiet.wait(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    /** One unit of background work; false when there was nothing to do. */
    private interface Job {
        boolean runOnce() throws Exception;
    }

    private final BackgroundHost engine;
    private final Compactor compactor;
    private final Worker flusher;
    private final Worker compaction;
    private volatile boolean running;

    BackgroundWork(BackgroundHost engine, DbOptions options) {
        this.engine = engine;
        this.compactor = new Compactor(engine, options);
        this.flusher = new Worker("redoubt-flush", this::flushOne);
        this.compaction = new Worker("redoubt-compaction", () -> !engine.closing() && compactor.compactOnce());
    }

    void start() {
        running = true;
        flusher.thread.start();
        compaction.thread.start();
    }

    boolean running() {
        return running && flusher.thread.isAlive();
    }

    void wake() {
        LockSupport.unpark(flusher.thread);
        LockSupport.unpark(compaction.thread);
    }

    /** Recovery, before {@link #start}: flushes the oldest immutable memtable on the caller's thread. */
    boolean flushOneNow() throws Exception {
        if (running) {
            throw new IllegalStateException("the flush thread is running: it flushes, not the caller");
        }
        return flushOne();
    }

    /** Flushes the oldest immutable memtable; false if there was none. */
    private boolean flushOne() throws Exception {
        ImmutableMemtable imm = engine.oldestImmutable();
        if (imm == null) {
            return false;
        }
        VersionEdit edit = new VersionEdit();
        edit.checkpointLsn = imm.checkpointLsn();
        TableFiles out = engine.newTableFiles();
        FileMeta meta = null;
        try {
            imm.memtable().forEachVersion(out::add);
            if (out.isOpen()) {
                meta = out.finish();
                edit.addFile(0, meta);
            }
            engine.versions().logAndApply(edit);
        } catch (Exception e) {
            out.abandon();
            throw e;
        } finally {
            if (meta != null) {
                engine.releaseOutput(meta.number());
            }
        }
        engine.flushCompleted(imm);
        LockSupport.unpark(compaction.thread);
        return true;
    }

    /** Waits until flushing and compaction have both found nothing to do (tests, tools). */
    void compactUntilQuiet() {
        flusher.awaitIdle();
        compaction.awaitIdle();
        flusher.awaitIdle();
    }

    void stop() {
        running = false;
        wake();
        try {
            flusher.thread.join(TimeUnit.SECONDS.toMillis(60));
            compaction.thread.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
