package dev.redoubt.wal;

import dev.redoubt.common.StorageEnv;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The live segment files of a WAL directory, in LSN order. */
final class WalSegments {
    private WalSegments() {
    }

    /** Live segment files (names that parse as segments), sorted by base LSN. Other files are ignored. */
    static List<Path> list(StorageEnv env, Path walDir) throws IOException {
        List<Path> segments = new ArrayList<>();
        for (Path p : env.list(walDir)) {
            if (SegmentFiles.parseSegmentBase(p) >= 0) {
                segments.add(p);
            }
        }
        // Zero-padded names sort by LSN, but do not rely on the listing order of any StorageEnv.
        segments.sort((a, b) -> Long.compare(SegmentFiles.parseSegmentBase(a), SegmentFiles.parseSegmentBase(b)));
        return segments;
    }

    static long[] bases(List<Path> segments) {
        long[] bases = new long[segments.size()];
        for (int i = 0; i < bases.length; i++) {
            bases[i] = SegmentFiles.parseSegmentBase(segments.get(i));
        }
        return bases;
    }
}
