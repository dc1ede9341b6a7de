package dev.redoubt.tool;

import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr for an operation that can run over about two seconds, or nothing: it is off with
 * {@code --no-progress}, with {@code --json}, and when the output is not a terminal (unless {@code --progress}
 * forces it). Shown only once the operation has run for {@value #SHOW_AFTER_MS} ms, so quick runs stay quiet.
 *
 * <p>Thread-safe: {@link #stepTo} may be called from any thread.
 */
final class Progress implements AutoCloseable {
    private static final long SHOW_AFTER_MS = 500;

    private final boolean enabled;
    private final String task;
    private final String unit;
    private final long unitSize;
    private final long startedNanos = System.nanoTime();
    private volatile long max;
    private volatile long current;
    private ProgressBar bar;

    private Progress(boolean enabled, String task, long max, String unit, long unitSize) {
        this.enabled = enabled;
        this.task = task;
        this.max = max;
        this.unit = unit;
        this.unitSize = unitSize;
    }

    /** A bar counting {@code max} bytes (shown in MiB); max &lt; 0 when unknown. */
    static Progress bytes(RedoubtCli cli, String task, long max) {
        return new Progress(cli.progressEnabled(), task, max, " MiB", 1024 * 1024);
    }

    /** A bar counting {@code max} items. */
    static Progress items(RedoubtCli cli, String task, long max, String unit) {
        return new Progress(cli.progressEnabled(), task, max, " " + unit, 1);
    }

    static Progress none() {
        return new Progress(false, "", 0, "", 1);
    }

    void maxHint(long newMax) {
        this.max = newMax;
        synchronized (this) {
            if (bar != null) {
                bar.maxHint(newMax);
            }
        }
    }

    void stepTo(long n) {
        current = n;
        if (!enabled) {
            return;
        }
        synchronized (this) {
            if (bar == null) {
                if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos) < SHOW_AFTER_MS) {
                    return;
                }
                bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setUnit(unit, unitSize)
                        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).showSpeed()
                        .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
            }
            bar.stepTo(n);
        }
    }

    void stepBy(long n) {
        stepTo(current + n);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (bar != null) {
                if (max >= 0) {
                    bar.stepTo(Math.max(current, max));
                }
                bar.close();
                bar = null;
            }
        }
    }
}
