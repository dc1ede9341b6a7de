package dev.redoubt.bench;

import java.util.List;

/**
 * The JVM flags every benchmark fork gets: the ones Agrona and Chronicle need on Java 17+, then the heap.
 *
 * <p>KEEP IN SYNC with the {@code redoubt.jvm.flags} property of the parent {@code pom.xml} (same flags, same
 * order). {@code bin/bench} passes that property to {@link WalBenchmarks}, which warns when the two differ.
 *
 * <p>One constant per flag because an annotation cannot take a {@code static final String[]}: the
 * {@code @Fork(jvmArgsAppend = {...})} of {@link BenchmarkDefaults} lists these constants, and {@link #POM_FLAGS}
 * lists the same ones for code.
 */
public final class JvmFlags {
    public static final String EXPORT_JDK_INTERNAL_MISC = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";
    public static final String EXPORT_JDK_INTERNAL_REF = "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED";
    public static final String EXPORT_SUN_NIO_CH = "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED";
    public static final String EXPORT_SUN_MISC = "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED";
    public static final String EXPORT_JAVAC_FILE = "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED";
    public static final String OPEN_JAVAC = "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED";
    public static final String OPEN_JAVA_LANG = "--add-opens=java.base/java.lang=ALL-UNNAMED";
    public static final String OPEN_JAVA_LANG_REFLECT = "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED";
    public static final String OPEN_JAVA_IO = "--add-opens=java.base/java.io=ALL-UNNAMED";
    public static final String OPEN_JAVA_UTIL = "--add-opens=java.base/java.util=ALL-UNNAMED";
    public static final String OPEN_JAVA_NIO = "--add-opens=java.base/java.nio=ALL-UNNAMED";
    public static final String OPEN_SUN_NIO_CH = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";

    /** Heap of each fork: the benchmarks hold little, but the WAL ring and staging are off-heap anyway. */
    public static final String HEAP = "-Xmx2g";

    /** The pom's {@code redoubt.jvm.flags}, in its order (without {@link #HEAP}). */
    public static final List<String> POM_FLAGS = List.of(
            EXPORT_JDK_INTERNAL_MISC,
            EXPORT_JDK_INTERNAL_REF,
            EXPORT_SUN_NIO_CH,
            EXPORT_SUN_MISC,
            EXPORT_JAVAC_FILE,
            OPEN_JAVAC,
            OPEN_JAVA_LANG,
            OPEN_JAVA_LANG_REFLECT,
            OPEN_JAVA_IO,
            OPEN_JAVA_UTIL,
            OPEN_JAVA_NIO,
            OPEN_SUN_NIO_CH);

    private JvmFlags() {
    }

    /**
     * Compares {@link #POM_FLAGS} with the pom's list as one space-separated string; returns null when they
     * match, else a message saying what differs.
     */
    static String driftFrom(String pomFlags) {
        List<String> pom = List.of(pomFlags.trim().split("\\s+"));
        if (pom.equals(POM_FLAGS)) {
            return null;
        }
        StringBuilder sb = new StringBuilder("JvmFlags.POM_FLAGS differs from redoubt.jvm.flags in pom.xml:");
        for (String f : pom) {
            if (!POM_FLAGS.contains(f)) {
                sb.append("\n  only in pom.xml:  ").append(f);
            }
        }
        for (String f : POM_FLAGS) {
            if (!pom.contains(f)) {
                sb.append("\n  only in JvmFlags: ").append(f);
            }
        }
        if (pom.size() == POM_FLAGS.size() && pom.containsAll(POM_FLAGS)) {
            sb.append("\n  (same flags, different order)");
        }
        return sb.toString();
    }
}
