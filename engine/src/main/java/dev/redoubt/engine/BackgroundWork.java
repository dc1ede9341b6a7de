package dev.redoubt.engine;

import dev.redoubt.common.EntryIterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Db's one background worker (Agrona's "background work has one owner"): flushes immutable memtables,
 * oldest first, then runs compactions while a level is over its target. A failure is recorded in the engine,
 * which then refuses writes until reopened (RocksDB's background error); nothing is retried blindly.
 */
final class BackgroundWork implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(BackgroundWork.class);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final DbEngine engine;
    private final Compactor compactor;
    private final Thread thread;
    private volatile boolean running;
    private final Object quiet = new Object();
    private long completedRounds;

    BackgroundWork(DbEngine engine, DbOptions options) {
        this.engine = engine;
        this.compactor = new Compactor(engine, options);
        this.thread = new Thread(this, "redoubt-background");
        this.thread.setDaemon(true);
    }

    void start() {
        running = true;
        thread.start();
    }

    boolean running() {
        return running && thread.isAlive();
    }

    void wake() {
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        while (running) {
            try {
                boolean worked = flushOne() || (!engine.closing() && compactor.compactOnce());
                if (!worked) {
                    synchronized (quiet) {
                        completedRounds++;
                        quiet.notifyAll();
                    }
                    LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                }
            } catch (Throwable e) {
                LOG.error("background flush or compaction failed; the database refuses writes until reopened", e);
                engine.backgroundFailed(e);
                running = false;
                synchronized (quiet) {
                    quiet.notifyAll();
                }
            }
        }
    }

    /** Flushes the oldest immutable memtable; false if there was none. */
    private boolean flushOne() throws Exception {
        DbEngine.ImmutableMemtable imm = engine.oldestImmutable();
        if (imm == null) {
            return false;
        }
        VersionEdit edit = new VersionEdit();
        edit.checkpointLsn = imm.checkpointLsn();
        TableFiles out = new TableFiles(engine.env(), engine.dir(), engine.sstOptions, engine.versions::newFileNumber,
                engine.pendingOutputs);
        FileMeta meta = null;
        try (EntryIterator it = imm.memtable().iterator(Long.MAX_VALUE)) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                out.add(it.key(), it.sequence(), it.kind(), it.value());
            }
            if (out.isOpen()) {
                meta = out.finish();
                edit.addFile(0, meta);
            }
            engine.versions.logAndApply(edit);
        } catch (Exception e) {
            out.abandon();
            throw e;
        } finally {
            if (meta != null) {
                engine.pendingOutputs.remove(meta.number());
            }
        }
        engine.flushCompleted(imm);
        return true;
    }

    /** Waits until the worker has found nothing to do after this call (tests, tools). */
    void compactUntilQuiet() {
        synchronized (quiet) {
            long target = completedRounds + 2;
            wake();
            while (completedRounds < target && running()) {
                try {
                    quiet.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                wake();
            }
        }
    }

    void stop() {
        running = false;
        wake();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
