package dev.redoubt.sstable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One test per kind of damage: each is found, and reported with the file, the byte offset and the problem. */
class SstCorruptionTest {
    static final Path TABLE = SstRoundTripTest.TABLE;

    private final SimulatedStorageEnv env = SstRoundTripTest.env();

    @ParameterizedTest(name = "compression={0}")
    @ValueSource(booleans = {true, false})
    void bitFlipInADataBlockIsReportedByGetIteratorAndVerifyWithFileAndOffset(boolean compression) throws Exception {
        writeKeys(500, SstOptions.defaults().blockBytes(256).compression(compression));
        long blockOffset;
        byte[] keyInBlock;
        byte[] keyElsewhere;
        try (SstReader reader = open()) {
            blockOffset = reader.index().offset(3);
            env.flipBit(TABLE, blockOffset + reader.index().size(3) / 2, 5);
            keyInBlock = reader.index().lastKey(3);
            keyElsewhere = reader.index().lastKey(0);
        }
        try (SstReader reader = open()) {
            assertReportsBlock(() -> reader.get(keyInBlock, Long.MAX_VALUE), blockOffset);
            assertReportsBlock(() -> {
                try (EntryIterator it = reader.iterator()) {
                    TableModel.readAll(it);
                }
            }, blockOffset);
            assertReportsBlock(() -> {
                try (EntryIterator it = reader.iterator()) {
                    it.seek(keyInBlock);
                }
            }, blockOffset);
            assertReportsBlock(reader::verify, blockOffset);
            // The damage is contained: other blocks still read.
            assertThat(reader.get(keyElsewhere, Long.MAX_VALUE)).isNotNull();
        }
    }

    @Test
    void everySingleBitFlipIsCaughtAtOpenOrByVerify() throws Exception {
        writeKeys(40, SstOptions.defaults().blockBytes(128));
        byte[] clean = env.readAllBytes(TABLE);
        int atOpen = 0;
        int byVerify = 0;
        for (int offset = 0; offset < clean.length; offset++) {
            env.flipBit(TABLE, offset, offset % 8);
            SstReader reader = null;
            try {
                reader = open();
            } catch (SstCorruptionException e) {
                assertThat(e.getMessage()).contains(TABLE.toString());
                atOpen++;
            }
            if (reader != null) {
                SstReader r = reader;
                SstCorruptionException e = catchThrowableOfType(SstCorruptionException.class, r::verify);
                assertThat(e).as("flip at byte %d of %d went unnoticed", offset, clean.length).isNotNull();
                r.close();
                byVerify++;
            }
            env.flipBit(TABLE, offset, offset % 8);
        }
        assertThat(env.readAllBytes(TABLE)).isEqualTo(clean);
        assertThat(atOpen).isPositive();
        assertThat(byVerify).isPositive();
    }

    @ParameterizedTest(name = "cut to {0} bytes from the end")
    @ValueSource(ints = {1, 8, 51, 52, 53, 500, -1, -10, -52})
    void aTruncatedFileIsRefusedAtOpenNamingTheFile(int cut) throws Exception {
        writeKeys(200, SstOptions.defaults());
        byte[] clean = env.readAllBytes(TABLE);
        // Positive: remove that many bytes from the end; negative: keep only -cut bytes.
        int keep = cut > 0 ? clean.length - cut : -cut;
        try (var f = env.openForWrite(TABLE)) {
            f.truncate(keep);
        }
        SstCorruptionException e = catchThrowableOfType(SstCorruptionException.class, this::open);
        assertThat(e).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
        assertThat(e.getMessage()).contains(TABLE.toString()).containsAnyOf("truncated", "shorter");
    }

    @Test
    void anEmptyFileIsRefusedAsTooShortForAFooter() throws Exception {
        env.openForWrite(TABLE).close();
        assertThatThrownBy(this::open).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
            assertThat(e.getMessage()).contains("0 bytes, shorter than the 52-byte footer");
            assertThat(e.offset()).isZero();
        });
    }

    @Test
    void aBadMagicIsRefusedAtOpenWithItsOffset() throws Exception {
        writeKeys(10, SstOptions.defaults());
        long size = env.readAllBytes(TABLE).length;
        env.writeRaw(TABLE, size - 8, "NOTMAGIC".getBytes());
        assertThatThrownBy(this::open).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
            assertThat(e.offset()).isEqualTo(size - 8);
            assertThat(e.getMessage()).contains("bad magic", "not a Redoubt SSTable", "byte " + (size - 8));
        });
    }

    @Test
    void aBadFooterChecksumIsRefusedAtOpen() throws Exception {
        writeKeys(10, SstOptions.defaults());
        long size = env.readAllBytes(TABLE).length;
        env.flipBit(TABLE, size - SstDescriptor.FOOTER_LENGTH + 2, 0);
        assertThatThrownBy(this::open).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
            assertThat(e.offset()).isEqualTo(size - SstDescriptor.FOOTER_LENGTH); // the first byte the checksum covers
            assertThat(e.getMessage()).contains("footer checksum mismatch");
        });
    }

    @Test
    void aNewerFormatVersionIsRefusedAsInvalidStateNotCorruption() throws Exception {
        writeKeys(10, SstOptions.defaults());
        Tamper.footer(env, TABLE, f -> SstDescriptor.putInt(f, SstDescriptor.FOOTER_VERSION_OFFSET, 2));
        assertThatThrownBy(this::open).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE);
            assertThat(e.getMessage()).contains("newer format version 2", TABLE.toString());
        });
    }

    @Test
    void aBadChecksumInTheIndexFilterOrPropertiesIsRefusedAtOpenWithTheBlockOffset() throws Exception {
        writeKeys(300, SstOptions.defaults());
        Footer footer = Tamper.readFooter(env, TABLE);
        for (BlockHandle h : List.of(footer.index(), footer.filter(), footer.properties())) {
            env.flipBit(TABLE, h.offset() + h.size() / 2, 1);
            assertThatThrownBy(this::open).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
                assertThat(e.offset()).isEqualTo(h.offset());
                assertThat(e.getMessage()).contains("checksum mismatch");
            });
            env.flipBit(TABLE, h.offset() + h.size() / 2, 1);
        }
        open().close();
    }

    // ---------------------------------------------------------------- hostile lengths behind valid checksums

    @Test
    void aFooterIndexSizeOfTwoGiBIsRefusedWithoutAllocatingIt() throws Exception {
        writeKeys(100, SstOptions.defaults());
        Tamper.footer(env, TABLE, f -> SstDescriptor.putInt(f, SstDescriptor.FOOTER_INDEX_SIZE_OFFSET,
                Integer.MAX_VALUE));
        assertCorruptAtOpen("index block handle");
    }

    @Test
    void footerHandlesThatDoNotTileTheFileAreRefused() throws Exception {
        writeKeys(100, SstOptions.defaults());
        Tamper.footer(env, TABLE, f -> SstDescriptor.putLong(f, SstDescriptor.FOOTER_FILTER_OFFSET_OFFSET,
                SstDescriptor.getLong(f, SstDescriptor.FOOTER_FILTER_OFFSET_OFFSET) - 1));
        assertCorruptAtOpen("back to back");
    }

    @Test
    void anIndexEntryNamingATwoGiBDataBlockIsRefusedAtOpen() throws Exception {
        writeKeys(100, SstOptions.defaults().compression(false).blockBytes(256));
        Footer footer = Tamper.readFooter(env, TABLE);
        Tamper.block(env, TABLE, footer.index(), b -> {
            BlockCursor c = new BlockCursor().reset(Block.parse(new BlockContents(b, footer.index().size(), false),
                    TABLE, footer.index().offset(), "index"));
            c.seekToFirst();
            SstDescriptor.putInt(b, c.valueOffset() + SstDescriptor.HANDLE_SIZE_OFFSET, Integer.MAX_VALUE);
        });
        assertCorruptAtOpen("index entry 0 names data block (offset 0, size 2147483647)");
    }

    @Test
    void aDataBlockClaimingTwoGiBDecompressedIsRefusedWithoutAllocatingIt() throws Exception {
        writeKeys(500, SstOptions.defaults().blockBytes(1024));
        BlockHandle h;
        byte[] key;
        try (SstReader reader = open()) {
            h = new BlockHandle(reader.index().offset(1), reader.index().size(1));
            key = reader.index().lastKey(1);
        }
        Tamper.block(env, TABLE, h, b -> {
            assertThat(b[h.size()]).as("the block is compressed").isEqualTo(SstDescriptor.COMPRESSION_LZ4);
            SstDescriptor.putInt(b, h.size() + SstDescriptor.TRAILER_RAW_LENGTH_OFFSET, Integer.MAX_VALUE);
        });
        try (SstReader reader = open()) {
            SstCorruptionException e = catchThrowableOfType(SstCorruptionException.class,
                    () -> reader.get(key, Long.MAX_VALUE));
            assertThat(e.getMessage()).contains("claims 2147483647 decompressed bytes");
            assertThat(e.offset()).isEqualTo(h.offset() + h.size() + SstDescriptor.TRAILER_RAW_LENGTH_OFFSET);
        }
    }

    @Test
    void aRestartCountOfTwoGiBIsRefused() throws Exception {
        writeKeys(100, SstOptions.defaults().compression(false).blockBytes(512));
        BlockHandle h;
        try (SstReader reader = open()) {
            h = new BlockHandle(reader.index().offset(0), reader.index().size(0));
        }
        Tamper.block(env, TABLE, h, b -> SstDescriptor.putInt(b, h.size() - 4, Integer.MAX_VALUE));
        try (SstReader reader = open()) {
            assertThatThrownBy(reader::verify).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
                assertThat(e.getMessage()).contains("restart count 2147483647");
                assertThat(e.offset()).isEqualTo(h.offset() + h.size() - 4);
            });
        }
    }

    @Test
    void anEntryValueLengthOverrunningItsBlockIsRefused() throws Exception {
        SstWriter w = new SstWriter(env, TABLE, SstOptions.defaults().compression(false));
        w.add("a".getBytes(), 1, EntryKind.PUT, new byte[1 << 21]); // value length is a 4-byte varint
        w.finish();
        int blockSize = (int) Tamper.readFooter(env, TABLE).index().offset() - SstDescriptor.TRAILER_LENGTH;
        Tamper.block(env, TABLE, new BlockHandle(0, blockSize), b -> {
            // shared = 0 (1 byte), unshared = 1 (1 byte), value length at 2..5: 2^28 - 1, the largest 4-byte varint
            assertThat(Arrays.copyOfRange(b, 2, 6)).containsExactly(0x80, 0x80, 0x80, 0x01);
            b[2] = (byte) 0xFF;
            b[3] = (byte) 0xFF;
            b[4] = (byte) 0xFF;
            b[5] = (byte) 0x7F;
        });
        try (SstReader reader = open()) {
            assertThatThrownBy(() -> reader.get("a".getBytes(), 1)).isInstanceOfSatisfying(SstCorruptionException.class,
                    e -> {
                        assertThat(e.getMessage()).contains("entry value of 268435455 bytes overruns the block");
                        assertThat(e.offset()).isEqualTo(0);
                    });
        }
    }

    @Test
    void aPropertiesKeyLengthOfTwoGiBIsRefusedAtOpen() throws Exception {
        writeKeys(10, SstOptions.defaults());
        Footer footer = Tamper.readFooter(env, TABLE);
        Tamper.block(env, TABLE, footer.properties(), b -> SstDescriptor.putInt(b,
                SstDescriptor.PROPS_SMALLEST_KEY_LENGTH_OFFSET, Integer.MAX_VALUE));
        assertCorruptAtOpen("smallest key length 2147483647");
    }

    @Test
    void aFilterWithAnImpossibleProbeCountIsRefusedAtOpen() throws Exception {
        writeKeys(10, SstOptions.defaults());
        Footer footer = Tamper.readFooter(env, TABLE);
        Tamper.block(env, TABLE, footer.filter(), b -> b[footer.filter().size() - 1] = (byte) 200);
        assertCorruptAtOpen("filter probe count 200");
    }

    @Test
    void entriesOutOfOrderBehindAValidChecksumAreReportedByVerify() throws Exception {
        writeKeys(100, SstOptions.defaults().compression(false).restartInterval(1));
        int at = Tamper.find(env, TABLE, "key-00050".getBytes());
        BlockHandle h;
        try (SstReader reader = open()) {
            int b = 0;
            while (reader.index().offset(b) + reader.index().size(b) < at) {
                b++;
            }
            h = new BlockHandle(reader.index().offset(b), reader.index().size(b));
        }
        int inBlock = (int) (at - h.offset());
        Tamper.block(env, TABLE, h, b -> System.arraycopy("key-00010".getBytes(), 0, b, inBlock, 9));
        try (SstReader reader = open()) {
            assertThatThrownBy(reader::verify).isInstanceOfSatisfying(SstCorruptionException.class,
                    e -> assertThat(e.getMessage()).contains("does not sort after the previous entry"));
        }
    }

    @Test
    void propertiesThatDisagreeWithTheEntriesAreReportedByVerify() throws Exception {
        writeKeys(100, SstOptions.defaults());
        Footer footer = Tamper.readFooter(env, TABLE);
        Tamper.block(env, TABLE, footer.properties(), b -> SstDescriptor.putLong(b,
                SstDescriptor.PROPS_DELETION_COUNT_OFFSET, 7));
        try (SstReader reader = open()) {
            assertThatThrownBy(reader::verify).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
                assertThat(e.getMessage()).contains("deletion count 7, the entries add up to 0");
                assertThat(e.offset()).isEqualTo(footer.properties().offset() + SstDescriptor.PROPS_DELETION_COUNT_OFFSET);
            });
        }
    }

    @Test
    void aMissingTableIsReportedAsCorruptionNamingIt() {
        assertThatThrownBy(this::open).isInstanceOfSatisfying(StorageException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.getMessage()).contains(TABLE.toString(), "does not exist");
        });
    }

    @Test
    void anIteratorThatHitADamagedBlockIsInvalidAndCanSeekPastIt() throws Exception {
        writeKeys(500, SstOptions.defaults().blockBytes(256));
        byte[] after;
        try (SstReader reader = open()) {
            env.flipBit(TABLE, reader.index().offset(2) + 3, 0);
            after = reader.index().lastKey(3);
        }
        try (SstReader reader = open(); EntryIterator it = reader.iterator()) {
            assertThatThrownBy(() -> TableModel.readAll(it)).isInstanceOf(SstCorruptionException.class);
            assertThat(it.valid()).isFalse();
            it.seek(after);
            assertThat(it.valid()).isTrue();
            assertThat(it.key()).isEqualTo(after);
        }
    }

    @Test
    void aClosedReaderRefusesReads() {
        writeKeys(10, SstOptions.defaults());
        SstReader reader = open();
        reader.close();
        assertThatThrownBy(() -> reader.get("key-00001".getBytes(), 1)).isInstanceOfSatisfying(
                StorageException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CLOSED));
    }

    // ---------------------------------------------------------------- helpers

    private void writeKeys(int count, SstOptions options) {
        List<TestEntry> entries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            entries.add(TestEntry.put(String.format("key-%05d", i), 1000 - i, "value-" + i + "-".repeat(i % 40)));
        }
        TableModel.write(env, TABLE, options, entries);
    }

    private SstReader open() {
        return SstReader.open(env, TABLE, new BlockCache(0));
    }

    private void assertCorruptAtOpen(String problem) {
        assertThatThrownBy(this::open).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.getMessage()).contains(TABLE.toString(), problem);
        });
    }

    private static void assertReportsBlock(ThrowingCallable read, long blockOffset) {
        assertThatThrownBy(read).isInstanceOfSatisfying(SstCorruptionException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.CORRUPTION);
            assertThat(e.file()).isEqualTo(TABLE);
            assertThat(e.offset()).isEqualTo(blockOffset);
            assertThat(e.getMessage()).contains(TABLE.toString(), "corrupt at byte " + blockOffset, "checksum mismatch");
        });
    }
}
