package dev.redoubt.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The run settings every Redoubt benchmark class inherits (JMH reads these annotations from superclasses), so
 * the JVM flags are written once.
 *
 * <p>Mode: {@link Mode#SampleTime} only, in microseconds. It gives the latency percentiles (p50/p99/p99.9), and
 * its mean gives the throughput: every benchmark thread appends back to back (a closed loop), so
 * {@code ops/s = threads / mean}. {@link WalBenchmarks} prints that. Running {@link Mode#Throughput} as well
 * would double the run for the same figure; pass {@code -bm thrpt,sample} to get both anyway.
 *
 * <p>Length: sized for a 2-core noisy VM: one fork per configuration, 2 x 2 s warmup and 5 x 3 s measurement,
 * about 21 s each with JVM start and setup; the default WAL run (13 configurations) takes about 5 minutes.
 *
 * <p>Command-line {@code -jvmArgsAppend} would <em>replace</em> the flags below: use {@code -jvmArgsPrepend} to
 * add JVM options.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
        // = redoubt.jvm.flags in the parent pom.xml (see JvmFlags), then the heap.
        JvmFlags.EXPORT_JDK_INTERNAL_MISC,
        JvmFlags.EXPORT_JDK_INTERNAL_REF,
        JvmFlags.EXPORT_SUN_NIO_CH,
        JvmFlags.EXPORT_SUN_MISC,
        JvmFlags.EXPORT_JAVAC_FILE,
        JvmFlags.OPEN_JAVAC,
        JvmFlags.OPEN_JAVA_LANG,
        JvmFlags.OPEN_JAVA_LANG_REFLECT,
        JvmFlags.OPEN_JAVA_IO,
        JvmFlags.OPEN_JAVA_UTIL,
        JvmFlags.OPEN_JAVA_NIO,
        JvmFlags.OPEN_SUN_NIO_CH,
        JvmFlags.HEAP})
public abstract class BenchmarkDefaults {
}
