package dev.redoubt.sstable;

import dev.redoubt.common.Limits;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The layout of an SSTable file, byte by byte. The only class that knows an offset within a footer, a block
 * trailer, a block handle or the properties block; {@code docs/formats/sstable.md} gives the reasons.
 *
 * <pre>
 * Every fixed-width integer is little-endian. varint32/varint64: unsigned LEB128 (7 bits per byte, low
 * group first, high bit = more), at most 5/9 bytes, value at most 2^31-1 / 2^63-1.
 *
 * FILE: blocks back to back from offset 0, no gaps, in this order:
 *
 *   +------------------------------+ 0
 *   | data block 0 | trailer       |   the entries, in internal order, split at ~blockSize
 *   | ...                          |
 *   | data block n-1 | trailer     |
 *   +------------------------------+ index offset (= data bytes)
 *   | index block | trailer        |   one entry per data block
 *   +------------------------------+ filter offset
 *   | filter block | trailer       |   bloom filter over the distinct user keys
 *   +------------------------------+ properties offset
 *   | properties block | trailer   |   counts and key/sequence ranges
 *   +------------------------------+ file size - FOOTER_LENGTH
 *   | footer (52 bytes)            |
 *   +------------------------------+ file size
 *
 * BLOCK ON DISK: s stored bytes, then a 9-byte trailer. A handle (offset, size) names the first stored
 * byte and s; the block occupies s + 9 bytes.
 *
 *   +----------------------------------+
 *   | stored bytes (s)                ...  the contents, LZ4-compressed when compression == 1
 *   +--------------+-------------------+
 *   | compression  |  s+0  u8   0 = none (raw length == s), 1 = LZ4 block format
 *   +--------------+-------------------+
 *   |            raw length            |  s+1  u32  length of the contents after decompression
 *   +----------------------------------+
 *   |              CRC32C              |  s+5  u32  over the s + 5 bytes before it
 *   +----------------------------------+
 *
 * BLOCK CONTENTS (data and index blocks; LevelDB's block_builder format with an explicit sequence):
 *
 *   contents := entry+ restart[numRestarts] numRestarts
 *   entry    := shared      varint32   key bytes shared with the previous entry's key (0 at a restart)
 *               unshared    varint32   key bytes that follow
 *               valueLength varint32
 *               kind        u8         EntryKind code: 1 PUT, 2 DELETE
 *               sequence    varint64
 *               keySuffix   byte[unshared]
 *               value       byte[valueLength]
 *   restart[i]  u32  offset of an entry with shared == 0; restart[0] == 0; strictly increasing
 *   numRestarts u32  at least 1
 *
 *   A restart starts every restartInterval entries, so a lookup binary-searches the restarts (whose keys
 *   are whole) and scans at most restartInterval entries. The last entry ends at the first restart word.
 *
 * DATA BLOCK: entries (key, sequence, kind, value) strictly increasing in internal order: user key
 *   ascending as unsigned bytes, then sequence descending. A DELETE has an empty value. Contents at most
 *   MAX_DATA_BLOCK_BYTES.
 *
 * INDEX BLOCK: entry i describes data block i: key and sequence = the block's last entry's, kind = PUT,
 *   value = the block's handle (12 bytes):
 *
 *   +----------------------------------+
 *   |            block offset          |  0  u64
 *   +----------------------------------+
 *   |         block stored size        |  8  u32
 *   +----------------------------------+
 *
 * FILTER BLOCK (never compressed): a bloom filter over every distinct user key.
 *
 *   +----------------------------------+
 *   | bits (m/8 bytes)                ...  bit b is (bits[b / 8] >> (b % 8)) &amp; 1
 *   +--------------+-------------------+
 *   |    probes    |  last byte, u8: k in 1..MAX_FILTER_PROBES; or 0 with no bits: no filter
 *   +--------------+
 *
 *   h = XXH64(key, seed 0); h1 = low 32 bits, h2 = high 32 bits (both unsigned);
 *   probe i in [0, k) tests bit (h1 + i * h2) mod m.
 *
 * PROPERTIES BLOCK (never compressed):
 *
 *   +----------------------------------+
 *   |           entry count            |  0  u64  at least 1
 *   |         deletion count           |  8  u64  DELETE entries
 *   |          min sequence            | 16  u64
 *   |          max sequence            | 24  u64
 *   |        data block count          | 32  u64  == index entries
 *   |           data bytes             | 40  u64  == index offset
 *   |         raw key bytes            | 48  u64  sum of user key lengths
 *   |        raw value bytes           | 56  u64  sum of value lengths
 *   +----------------------------------+
 *   |       smallest key length        | 64  u32  at most Limits.MAX_KEY_BYTES
 *   |        largest key length        | 68  u32
 *   +----------------------------------+
 *   | smallest key | largest key      ...  72  user keys of the first and last entries
 *   +----------------------------------+
 *
 * FOOTER (the last 52 bytes):
 *
 *   +----------------------------------+
 *   |           index offset           |  0  u64
 *   |           filter offset          |  8  u64
 *   |         properties offset        | 16  u64
 *   +----------------------------------+
 *   |         index stored size        | 24  u32
 *   |        filter stored size        | 28  u32
 *   |      properties stored size      | 32  u32
 *   |          format version          | 36  u32  FORMAT_VERSION
 *   |              CRC32C              | 40  u32  over bytes [0, 40) of the footer
 *   +----------------------------------+
 *   |               magic              | 44  u64  MAGIC: the ASCII bytes "RDBT.SST"
 *   +----------------------------------+
 * </pre>
 *
 * <p>A reader trusts nothing before checking it: the footer's magic, checksum and version; that each handle
 * lies exactly where the layout above puts it (so no length read from disk is used before it is bounded by
 * the file and by the limits below); each block's checksum before its contents; each entry's lengths
 * against the block. Thread-safety: stateless constants and static functions, safe from any thread.
 */
public final class SstDescriptor {

    public static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    public static final int FORMAT_VERSION = 1;
    /** The bytes "RDBT.SST" read as a little-endian u64: {@code xxd} shows the name at the end of the file. */
    public static final long MAGIC = 0x5453532E54424452L;

    // ---------------------------------------------------------------- block trailer (relative to its start)
    public static final int TRAILER_COMPRESSION_OFFSET = 0;
    public static final int TRAILER_RAW_LENGTH_OFFSET = 1;
    public static final int TRAILER_CRC_OFFSET = 5;
    public static final int TRAILER_LENGTH = 9;
    public static final byte COMPRESSION_NONE = 0;
    public static final byte COMPRESSION_LZ4 = 1;

    // ---------------------------------------------------------------- block contents
    /** Bytes of one restart offset and of the restart count. */
    public static final int RESTART_LENGTH = Integer.BYTES;

    // ---------------------------------------------------------------- index entry value: a block handle
    public static final int HANDLE_OFFSET_OFFSET = 0;
    public static final int HANDLE_SIZE_OFFSET = 8;
    public static final int HANDLE_LENGTH = 12;

    // ---------------------------------------------------------------- filter block
    public static final int MAX_FILTER_PROBES = 30;
    /** The probe count is the filter block's last byte. */
    public static final int FILTER_PROBES_LENGTH = 1;
    public static final long FILTER_HASH_SEED = 0L;

    // ---------------------------------------------------------------- properties block
    public static final int PROPS_ENTRY_COUNT_OFFSET = 0;
    public static final int PROPS_DELETION_COUNT_OFFSET = 8;
    public static final int PROPS_MIN_SEQUENCE_OFFSET = 16;
    public static final int PROPS_MAX_SEQUENCE_OFFSET = 24;
    public static final int PROPS_DATA_BLOCK_COUNT_OFFSET = 32;
    public static final int PROPS_DATA_BYTES_OFFSET = 40;
    public static final int PROPS_RAW_KEY_BYTES_OFFSET = 48;
    public static final int PROPS_RAW_VALUE_BYTES_OFFSET = 56;
    public static final int PROPS_SMALLEST_KEY_LENGTH_OFFSET = 64;
    public static final int PROPS_LARGEST_KEY_LENGTH_OFFSET = 68;
    public static final int PROPS_KEYS_OFFSET = 72;

    // ---------------------------------------------------------------- footer
    public static final int FOOTER_INDEX_OFFSET_OFFSET = 0;
    public static final int FOOTER_FILTER_OFFSET_OFFSET = 8;
    public static final int FOOTER_PROPERTIES_OFFSET_OFFSET = 16;
    public static final int FOOTER_INDEX_SIZE_OFFSET = 24;
    public static final int FOOTER_FILTER_SIZE_OFFSET = 28;
    public static final int FOOTER_PROPERTIES_SIZE_OFFSET = 32;
    public static final int FOOTER_VERSION_OFFSET = 36;
    public static final int FOOTER_CRC_OFFSET = 40;
    public static final int FOOTER_MAGIC_OFFSET = 44;
    public static final int FOOTER_LENGTH = 52;

    // ---------------------------------------------------------------- limits (what a reader will allocate)
    /**
     * Largest data block contents: one entry of the largest key and value, plus the block-size target, plus
     * headers, fits with room to spare. A larger length read from disk is corruption.
     */
    public static final int MAX_DATA_BLOCK_BYTES = 16 * 1024 * 1024;
    /** Largest index, filter or properties block; a writer refuses to finish a table that would need more. */
    public static final int MAX_META_BLOCK_BYTES = 64 * 1024 * 1024;
    /** LZ4 cannot compress better than about 255:1; a raw length above stored * this is corruption. */
    public static final int MAX_LZ4_RATIO = 256;
    /** Longest varints: 5 bytes for a varint32 (31 bits), 9 for a varint64 (63 bits). */
    public static final int MAX_VARINT32_BYTES = 5;
    public static final int MAX_VARINT64_BYTES = 9;
    /** Most header bytes one entry can take: three varint32s, the kind, a varint64. */
    public static final int MAX_ENTRY_HEADER_BYTES = 3 * MAX_VARINT32_BYTES + 1 + MAX_VARINT64_BYTES;

    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ORDER);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ORDER);

    static {
        if (FOOTER_MAGIC_OFFSET + Long.BYTES != FOOTER_LENGTH) {
            throw new AssertionError("the magic must end the footer");
        }
        if (FOOTER_CRC_OFFSET + Integer.BYTES != FOOTER_MAGIC_OFFSET) {
            throw new AssertionError("the footer checksum must precede the magic");
        }
        if (TRAILER_CRC_OFFSET + Integer.BYTES != TRAILER_LENGTH) {
            throw new AssertionError("the checksum must end the block trailer");
        }
        if (HANDLE_SIZE_OFFSET + Integer.BYTES != HANDLE_LENGTH) {
            throw new AssertionError("handle fields must end at HANDLE_LENGTH");
        }
        if (PROPS_LARGEST_KEY_LENGTH_OFFSET + Integer.BYTES != PROPS_KEYS_OFFSET) {
            throw new AssertionError("the properties' keys must follow the fixed fields");
        }
        // A block is cut once its estimated size (restarts included) reaches blockSize, so it holds less than
        // blockSize before its last entry, which adds at most one entry and one restart.
        long largestEntry = (long) MAX_ENTRY_HEADER_BYTES + Limits.MAX_KEY_BYTES + Limits.MAX_VALUE_BYTES;
        if (SstOptions.MAX_BLOCK_BYTES + largestEntry + RESTART_LENGTH > MAX_DATA_BLOCK_BYTES) {
            throw new AssertionError("the largest entry after a nearly full block must fit in a data block");
        }
    }

    private SstDescriptor() {
    }

    // ---------------------------------------------------------------- fixed-width fields

    static int getInt(byte[] b, int at) {
        return (int) INT.get(b, at);
    }

    static long getLong(byte[] b, int at) {
        return (long) LONG.get(b, at);
    }

    static void putInt(byte[] b, int at, int value) {
        INT.set(b, at, value);
    }

    static void putLong(byte[] b, int at, long value) {
        LONG.set(b, at, value);
    }

    // ---------------------------------------------------------------- trailer

    /** Fills {@code trailer} for the {@code storedSize} stored bytes at {@code stored[from]}. */
    static void fillTrailer(byte[] trailer, byte[] stored, int from, int storedSize, byte compression,
                            int rawLength) {
        trailer[TRAILER_COMPRESSION_OFFSET] = compression;
        putInt(trailer, TRAILER_RAW_LENGTH_OFFSET, rawLength);
        putInt(trailer, TRAILER_CRC_OFFSET, blockChecksum(stored, from, storedSize, trailer, 0));
    }

    /** The CRC32C a block's trailer must hold: over its stored bytes and the trailer bytes before the CRC. */
    static int blockChecksum(byte[] stored, int from, int storedSize, byte[] trailer, int trailerAt) {
        CRC32C crc = new CRC32C();
        crc.update(stored, from, storedSize);
        crc.update(trailer, trailerAt, TRAILER_CRC_OFFSET);
        return (int) crc.getValue();
    }

    static byte trailerCompression(byte[] b, int trailerAt) {
        return b[trailerAt + TRAILER_COMPRESSION_OFFSET];
    }

    static int trailerRawLength(byte[] b, int trailerAt) {
        return getInt(b, trailerAt + TRAILER_RAW_LENGTH_OFFSET);
    }

    static int trailerChecksum(byte[] b, int trailerAt) {
        return getInt(b, trailerAt + TRAILER_CRC_OFFSET);
    }

    // ---------------------------------------------------------------- footer

    static void writeFooter(byte[] b, BlockHandle index, BlockHandle filter, BlockHandle properties) {
        putLong(b, FOOTER_INDEX_OFFSET_OFFSET, index.offset());
        putLong(b, FOOTER_FILTER_OFFSET_OFFSET, filter.offset());
        putLong(b, FOOTER_PROPERTIES_OFFSET_OFFSET, properties.offset());
        putInt(b, FOOTER_INDEX_SIZE_OFFSET, index.size());
        putInt(b, FOOTER_FILTER_SIZE_OFFSET, filter.size());
        putInt(b, FOOTER_PROPERTIES_SIZE_OFFSET, properties.size());
        putInt(b, FOOTER_VERSION_OFFSET, FORMAT_VERSION);
        putInt(b, FOOTER_CRC_OFFSET, footerChecksum(b));
        putLong(b, FOOTER_MAGIC_OFFSET, MAGIC);
    }

    static int footerChecksum(byte[] footer) {
        CRC32C crc = new CRC32C();
        crc.update(footer, 0, FOOTER_CRC_OFFSET);
        return (int) crc.getValue();
    }

    static long footerMagic(byte[] b) {
        return getLong(b, FOOTER_MAGIC_OFFSET);
    }

    static int footerStoredChecksum(byte[] b) {
        return getInt(b, FOOTER_CRC_OFFSET);
    }

    static int footerVersion(byte[] b) {
        return getInt(b, FOOTER_VERSION_OFFSET);
    }

    static BlockHandle footerIndex(byte[] b) {
        return new BlockHandle(getLong(b, FOOTER_INDEX_OFFSET_OFFSET), getInt(b, FOOTER_INDEX_SIZE_OFFSET));
    }

    static BlockHandle footerFilter(byte[] b) {
        return new BlockHandle(getLong(b, FOOTER_FILTER_OFFSET_OFFSET), getInt(b, FOOTER_FILTER_SIZE_OFFSET));
    }

    static BlockHandle footerProperties(byte[] b) {
        return new BlockHandle(getLong(b, FOOTER_PROPERTIES_OFFSET_OFFSET),
                getInt(b, FOOTER_PROPERTIES_SIZE_OFFSET));
    }

    // ---------------------------------------------------------------- filter

    /** The probe count of the filter block contents {@code b[0, length)}. REQUIRES length >= 1. */
    static int filterProbes(byte[] b, int length) {
        return b[length - FILTER_PROBES_LENGTH] & 0xFF;
    }

    /** Bytes of bits in a filter block of {@code length} bytes. */
    static int filterBitBytes(int length) {
        return length - FILTER_PROBES_LENGTH;
    }

    static void putFilterProbes(byte[] b, int length, int probes) {
        b[length - FILTER_PROBES_LENGTH] = (byte) probes;
    }

    // ---------------------------------------------------------------- handle

    static void writeHandle(byte[] b, int at, long offset, int storedSize) {
        putLong(b, at + HANDLE_OFFSET_OFFSET, offset);
        putInt(b, at + HANDLE_SIZE_OFFSET, storedSize);
    }

    static long handleOffset(byte[] b, int at) {
        return getLong(b, at + HANDLE_OFFSET_OFFSET);
    }

    static int handleSize(byte[] b, int at) {
        return getInt(b, at + HANDLE_SIZE_OFFSET);
    }
}
