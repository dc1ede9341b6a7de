package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.Found;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Hostile bytes as an SSTable file: open, iterate, seek, get and verify either work or report
 * {@link ErrorCode#CORRUPTION} (or {@link ErrorCode#INVALID_STATE} for a footer that validly claims a newer
 * format version); never another exception, an unbounded allocation or an endless loop. Under {@code mvn test}
 * this replays the seed corpus in {@code src/test/resources/.../SstDecoderFuzzTestInputs} (small valid tables
 * written by {@link #main}); with {@code JAZZER_FUZZ=1} it fuzzes.
 */
class SstDecoderFuzzTest {
    private static final Path DIR = Path.of("/fuzz");
    private static final Path TABLE = DIR.resolve("000001.sst");

    @FuzzTest(maxDuration = "30s")
    void hostileTableBytesAreReadOrReportedNeverCrash(byte[] bytes) throws IOException {
        SimulatedStorageEnv env = new SimulatedStorageEnv();
        env.createDirectories(DIR);
        try (var out = env.openForWrite(TABLE)) {
            out.write(0, ByteBuffer.wrap(bytes));
        }
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(1 << 20))) {
            exercise(reader, bytes.length);
        } catch (StorageException e) {
            if (e.code() == ErrorCode.INVALID_STATE) {
                assertThat(e.getMessage()).contains("newer format version");
            } else {
                assertThat(e.code()).as("%s", e).isEqualTo(ErrorCode.CORRUPTION);
                assertThat(e).isInstanceOf(SstCorruptionException.class);
                assertThat(e.getMessage()).contains(TABLE.toString());
            }
        }
    }

    /**
     * The decoders behind the checksums, fed directly (a fuzzer rarely forges a CRC32C): hostile contents as a
     * data block, an index block, a properties block and a filter either decode or report corruption.
     */
    @FuzzTest(maxDuration = "30s")
    void hostileBlockContentsAreDecodedOrReported(byte[] bytes) {
        BlockContents contents = new BlockContents(bytes, bytes.length, false);
        try {
            Block block = Block.parse(contents, TABLE, 0, "data");
            BlockCursor cursor = new BlockCursor().reset(block);
            List<byte[]> keys = new ArrayList<>();
            int entries = 0;
            for (cursor.seekToFirst(); cursor.valid(); cursor.next()) {
                assertThat(++entries).isLessThanOrEqualTo(bytes.length / 5);
                assertThat(cursor.valueOffset() + cursor.valueLength()).isLessThanOrEqualTo(block.restartsOffset());
                if (keys.size() < 8) {
                    keys.add(java.util.Arrays.copyOf(cursor.keyBuffer(), cursor.keyLength()));
                }
            }
            keys.add(new byte[] {(byte) 0xFF});
            for (byte[] key : keys) {
                cursor.seek(key, Long.MAX_VALUE);
                cursor.seek(key, 0);
            }
        } catch (SstCorruptionException expected) {
            // A refusal is a valid outcome for hostile bytes.
        }
        try {
            IndexBlock.decode(Block.parse(contents, TABLE, 0, "index"), 1L << 40);
        } catch (SstCorruptionException expected) {
            // As above.
        }
        Footer footer = new Footer(new BlockHandle(4096, 100), new BlockHandle(4205, 100),
                new BlockHandle(4314, bytes.length), 4314L + bytes.length + SstDescriptor.TRAILER_LENGTH
                + SstDescriptor.FOOTER_LENGTH);
        try {
            PropertiesBlock.decode(bytes, bytes.length, TABLE, 4314, footer);
        } catch (SstCorruptionException expected) {
            // As above.
        }
        try {
            BloomFilter filter = BloomFilter.decode(bytes, bytes.length, TABLE, 4205);
            filter.mayContain(bytes);
            filter.mayContain(new byte[0]);
        } catch (SstCorruptionException expected) {
            // As above.
        }
    }

    private static void exercise(SstReader reader, int fileBytes) {
        List<byte[]> keys = new ArrayList<>();
        long entries = 0;
        try (EntryIterator it = reader.iterator()) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                // Every entry takes at least 5 bytes of contents, and contents are at most 256x their stored size.
                assertThat(++entries).isLessThanOrEqualTo(256L * fileBytes);
                if (keys.size() < 16) {
                    keys.add(it.key());
                }
                it.value();
                it.kind();
            }
            for (byte[] key : keys) {
                it.seek(key);
            }
        }
        keys.add(new byte[0]);
        keys.add("absent".getBytes());
        for (byte[] key : keys) {
            reader.mayContain(key);
            Found f = reader.get(key, Long.MAX_VALUE);
            if (f != null) {
                assertThat(f.sequence()).isNotNegative();
            }
            reader.get(key, 0);
        }
        reader.verify();
    }

    /** The contents of every block of an uncompressed table, one seed file each. */
    private static void writeBlocks(SimulatedStorageEnv env, Path dir) throws IOException {
        byte[] file = env.readAllBytes(TABLE);
        try (SstReader reader = SstReader.open(env, TABLE, new BlockCache(0))) {
            List<BlockHandle> handles = new ArrayList<>();
            for (int b = 0; b < Math.min(2, reader.index().blockCount()); b++) {
                handles.add(new BlockHandle(reader.index().offset(b), reader.index().size(b)));
            }
            Footer footer = reader.footer();
            handles.addAll(List.of(footer.index(), footer.filter(), footer.properties()));
            for (BlockHandle h : handles) {
                Files.write(dir.resolve("block-at-" + h.offset()), java.util.Arrays.copyOfRange(file,
                        (int) h.offset(), (int) h.offset() + h.size()));
            }
        }
    }

    /** Writes the seed corpus: small valid tables of each layout. Run from the module directory. */
    public static void main(String[] args) throws IOException {
        Path out = Path.of("src/test/resources/dev/redoubt/sstable/SstDecoderFuzzTestInputs"
                + "/hostileTableBytesAreReadOrReportedNeverCrash");
        Files.createDirectories(out);
        Path blocks = out.resolveSibling("hostileBlockContentsAreDecodedOrReported");
        Files.createDirectories(blocks);
        SstOptions[] layouts = {
                SstOptions.defaults().blockBytes(64),
                SstOptions.defaults().blockBytes(64).compression(false).restartInterval(2),
                SstOptions.defaults().blockBytes(128).bloomBitsPerKey(0),
                SstOptions.defaults().restartInterval(1),
        };
        for (int i = 0; i < layouts.length; i++) {
            SimulatedStorageEnv env = new SimulatedStorageEnv();
            env.createDirectories(DIR);
            Random random = new Random(i);
            List<TestEntry> entries = TableModel.randomEntries(random, 4 + 4 * i, 3, i == 2 ? 120 : 12, 0.25);
            TableModel.write(env, TABLE, layouts[i], entries);
            Files.write(out.resolve("valid-table-" + i), env.readAllBytes(TABLE));
            if (!layouts[i].compression()) {
                writeBlocks(env, blocks);
            }
        }
    }
}
