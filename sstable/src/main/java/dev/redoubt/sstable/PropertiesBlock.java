package dev.redoubt.sstable;

import static dev.redoubt.sstable.SstDescriptor.PROPS_DATA_BLOCK_COUNT_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_DATA_BYTES_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_DELETION_COUNT_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_ENTRY_COUNT_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_KEYS_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_LARGEST_KEY_LENGTH_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_MAX_SEQUENCE_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_MIN_SEQUENCE_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_RAW_KEY_BYTES_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_RAW_VALUE_BYTES_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.PROPS_SMALLEST_KEY_LENGTH_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.getInt;
import static dev.redoubt.sstable.SstDescriptor.getLong;
import static dev.redoubt.sstable.SstDescriptor.putInt;
import static dev.redoubt.sstable.SstDescriptor.putLong;

import dev.redoubt.common.KeyOrder;
import dev.redoubt.common.Limits;
import java.nio.file.Path;
import java.util.Arrays;

/** Encodes and decodes the properties block (layout in {@link SstDescriptor}). Stateless, thread-safe. */
final class PropertiesBlock {
    private PropertiesBlock() {
    }

    /** The stored fields of {@code p} (sizes of the index, filter and file are not stored). */
    static byte[] encode(SstProperties p) {
        byte[] smallest = p.smallestKey();
        byte[] largest = p.largestKey();
        byte[] b = new byte[PROPS_KEYS_OFFSET + smallest.length + largest.length];
        putLong(b, PROPS_ENTRY_COUNT_OFFSET, p.entryCount());
        putLong(b, PROPS_DELETION_COUNT_OFFSET, p.deletionCount());
        putLong(b, PROPS_MIN_SEQUENCE_OFFSET, p.minSequence());
        putLong(b, PROPS_MAX_SEQUENCE_OFFSET, p.maxSequence());
        putLong(b, PROPS_DATA_BLOCK_COUNT_OFFSET, p.dataBlockCount());
        putLong(b, PROPS_DATA_BYTES_OFFSET, p.dataBytes());
        putLong(b, PROPS_RAW_KEY_BYTES_OFFSET, p.rawKeyBytes());
        putLong(b, PROPS_RAW_VALUE_BYTES_OFFSET, p.rawValueBytes());
        putInt(b, PROPS_SMALLEST_KEY_LENGTH_OFFSET, smallest.length);
        putInt(b, PROPS_LARGEST_KEY_LENGTH_OFFSET, largest.length);
        System.arraycopy(smallest, 0, b, PROPS_KEYS_OFFSET, smallest.length);
        System.arraycopy(largest, 0, b, PROPS_KEYS_OFFSET + smallest.length, largest.length);
        return b;
    }

    /**
     * Decodes and checks the properties block whose (never compressed) contents {@code b[0, length)} start
     * at file offset {@code at}, so that every complaint names the exact byte of the field.
     */
    static SstProperties decode(byte[] b, int length, Path file, long at, Footer footer) {
        if (length < PROPS_KEYS_OFFSET) {
            throw new SstCorruptionException(file, at, "properties block of " + length
                    + " bytes is shorter than its " + PROPS_KEYS_OFFSET + " fixed bytes");
        }
        int smallestLength = getInt(b, PROPS_SMALLEST_KEY_LENGTH_OFFSET);
        int largestLength = getInt(b, PROPS_LARGEST_KEY_LENGTH_OFFSET);
        checkKeyLength(smallestLength, file, at + PROPS_SMALLEST_KEY_LENGTH_OFFSET, "smallest");
        checkKeyLength(largestLength, file, at + PROPS_LARGEST_KEY_LENGTH_OFFSET, "largest");
        if (PROPS_KEYS_OFFSET + smallestLength + largestLength != length) {
            throw new SstCorruptionException(file, at + PROPS_SMALLEST_KEY_LENGTH_OFFSET, "properties key lengths "
                    + smallestLength + " + " + largestLength + " do not fill the " + length + "-byte block");
        }
        long entries = getLong(b, PROPS_ENTRY_COUNT_OFFSET);
        long deletions = getLong(b, PROPS_DELETION_COUNT_OFFSET);
        long minSequence = getLong(b, PROPS_MIN_SEQUENCE_OFFSET);
        long maxSequence = getLong(b, PROPS_MAX_SEQUENCE_OFFSET);
        long blocks = getLong(b, PROPS_DATA_BLOCK_COUNT_OFFSET);
        long dataBytes = getLong(b, PROPS_DATA_BYTES_OFFSET);
        long rawKeyBytes = getLong(b, PROPS_RAW_KEY_BYTES_OFFSET);
        long rawValueBytes = getLong(b, PROPS_RAW_VALUE_BYTES_OFFSET);
        check(entries >= 1, file, at + PROPS_ENTRY_COUNT_OFFSET, "entry count " + entries + " is below 1");
        check(deletions >= 0 && deletions <= entries, file, at + PROPS_DELETION_COUNT_OFFSET,
                "deletion count " + deletions + " is outside [0, entry count " + entries + "]");
        check(minSequence >= 0 && minSequence <= maxSequence, file, at + PROPS_MIN_SEQUENCE_OFFSET,
                "sequence range [" + minSequence + ", " + maxSequence + "] is negative or inverted");
        check(blocks >= 1 && blocks <= entries, file, at + PROPS_DATA_BLOCK_COUNT_OFFSET,
                "data block count " + blocks + " is outside [1, entry count " + entries + "]");
        check(dataBytes == footer.index().offset(), file, at + PROPS_DATA_BYTES_OFFSET,
                "data bytes " + dataBytes + " differ from the index offset " + footer.index().offset());
        check(rawKeyBytes >= 0 && rawValueBytes >= 0, file, at + PROPS_RAW_KEY_BYTES_OFFSET,
                "raw key or value byte count is negative");
        byte[] smallest = Arrays.copyOfRange(b, PROPS_KEYS_OFFSET, PROPS_KEYS_OFFSET + smallestLength);
        byte[] largest = Arrays.copyOfRange(b, PROPS_KEYS_OFFSET + smallestLength, length);
        check(KeyOrder.compareKeys(smallest, largest) <= 0, file, at + PROPS_KEYS_OFFSET,
                "smallest key " + Keys.describe(smallest) + " sorts after largest key " + Keys.describe(largest));
        return new SstProperties(entries, deletions, minSequence, maxSequence, smallest, largest, blocks,
                dataBytes, rawKeyBytes, rawValueBytes, footer.index().end() - footer.index().offset(),
                footer.filter().end() - footer.filter().offset(), footer.fileBytes());
    }

    private static void checkKeyLength(int length, Path file, long at, String which) {
        check(length >= 0 && length <= Limits.MAX_KEY_BYTES, file, at, which + " key length " + length
                + " is outside [0, " + Limits.MAX_KEY_BYTES + "]");
    }

    private static void check(boolean ok, Path file, long at, String problem) {
        if (!ok) {
            throw new SstCorruptionException(file, at, problem);
        }
    }
}
