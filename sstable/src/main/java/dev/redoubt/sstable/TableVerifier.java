package dev.redoubt.sstable;

import dev.redoubt.common.EntryKind;
import java.util.Arrays;

/**
 * The deep check behind {@link SstReader#verify()}: every data block read from the file (not the cache) and
 * checksummed, every entry decoded, all entries strictly increasing in internal order across blocks, each
 * block's last entry equal to its index entry, every key passing the filter, and the properties' counts,
 * ranges and sizes equal to what the entries add up to.
 *
 * <p>Not thread-safe: one verification per instance (a reader may run several at once).
 */
final class TableVerifier {
    private final SstReader reader;
    private final IndexBlock index;
    private final SstProperties expected;
    private final BlockCursor cursor = new BlockCursor();

    private byte[] previousKey = new byte[64];
    private int previousKeyLength = -1;
    private long previousSequence;
    private long entries;
    private long deletions;
    private long minSequence = Long.MAX_VALUE;
    private long maxSequence = Long.MIN_VALUE;
    private long rawKeyBytes;
    private long rawValueBytes;
    private byte[] firstKey;

    TableVerifier(SstReader reader) {
        this.reader = reader;
        this.index = reader.index();
        this.expected = reader.properties();
    }

    void run() {
        for (int b = 0; b < index.blockCount(); b++) {
            Block block = reader.readBlock(b);
            cursor.reset(block);
            for (cursor.seekToFirst(); cursor.valid(); cursor.next()) {
                checkEntry(block);
            }
            if (!Arrays.equals(previousKey, 0, Math.max(0, previousKeyLength), index.lastKey(b), 0,
                    index.lastKey(b).length) || previousSequence != index.lastSequence(b)) {
                throw block.corrupt(block.restartsOffset(), "the block's last entry differs from its index entry ("
                        + Keys.describe(index.lastKey(b)) + ", sequence " + index.lastSequence(b) + ")");
            }
        }
        checkProperties();
    }

    private void checkEntry(Block block) {
        int keyLength = cursor.keyLength();
        byte[] key = cursor.keyBuffer();
        long sequence = cursor.sequence();
        boolean sameKey = previousKeyLength == keyLength
                && Arrays.equals(previousKey, 0, previousKeyLength, key, 0, keyLength);
        if (previousKeyLength >= 0) {
            int c = Arrays.compareUnsigned(previousKey, 0, previousKeyLength, key, 0, keyLength);
            if (c > 0 || (c == 0 && sequence >= previousSequence)) {
                throw block.corrupt(cursor.entryOffset(), "entry (" + Keys.describe(key, 0, keyLength) + ", sequence "
                        + sequence + ") does not sort after the previous entry ("
                        + Keys.describe(previousKey, 0, previousKeyLength) + ", sequence " + previousSequence + ")");
            }
        }
        if (cursor.kind() == EntryKind.DELETE && cursor.valueLength() != 0) {
            throw block.corrupt(cursor.entryOffset(), "DELETE entry carries a " + cursor.valueLength() + "-byte value");
        }
        if (!sameKey && !reader.filter().mayContain(key, 0, keyLength)) {
            throw block.corrupt(cursor.entryOffset(), "the filter rejects key " + Keys.describe(key, 0, keyLength)
                    + ", which the table holds");
        }
        if (firstKey == null) {
            firstKey = Arrays.copyOf(key, keyLength);
        }
        if (previousKey.length < keyLength) {
            previousKey = Arrays.copyOf(previousKey, Math.max(keyLength, 2 * previousKey.length));
        }
        System.arraycopy(key, 0, previousKey, 0, keyLength);
        previousKeyLength = keyLength;
        previousSequence = sequence;
        entries++;
        deletions += cursor.kind() == EntryKind.DELETE ? 1 : 0;
        minSequence = Math.min(minSequence, sequence);
        maxSequence = Math.max(maxSequence, sequence);
        rawKeyBytes += keyLength;
        rawValueBytes += cursor.valueLength();
    }

    private void checkProperties() {
        long at = reader.footer().properties().offset();
        byte[] lastKey = Arrays.copyOf(previousKey, previousKeyLength);
        mustEqual(entries, expected.entryCount(), at + SstDescriptor.PROPS_ENTRY_COUNT_OFFSET, "entry count");
        mustEqual(deletions, expected.deletionCount(), at + SstDescriptor.PROPS_DELETION_COUNT_OFFSET,
                "deletion count");
        mustEqual(minSequence, expected.minSequence(), at + SstDescriptor.PROPS_MIN_SEQUENCE_OFFSET, "min sequence");
        mustEqual(maxSequence, expected.maxSequence(), at + SstDescriptor.PROPS_MAX_SEQUENCE_OFFSET, "max sequence");
        mustEqual(rawKeyBytes, expected.rawKeyBytes(), at + SstDescriptor.PROPS_RAW_KEY_BYTES_OFFSET,
                "raw key bytes");
        mustEqual(rawValueBytes, expected.rawValueBytes(), at + SstDescriptor.PROPS_RAW_VALUE_BYTES_OFFSET,
                "raw value bytes");
        if (!Arrays.equals(firstKey, expected.smallestKey()) || !Arrays.equals(lastKey, expected.largestKey())) {
            throw new SstCorruptionException(reader.path(), at + SstDescriptor.PROPS_KEYS_OFFSET, "properties' key"
                    + " range differs from the entries' [" + Keys.describe(firstKey) + ", " + Keys.describe(lastKey)
                    + "]");
        }
    }

    private void mustEqual(long counted, long recorded, long at, String what) {
        if (counted != recorded) {
            throw new SstCorruptionException(reader.path(), at, "properties record " + what + " " + recorded
                    + ", the entries add up to " + counted);
        }
    }
}
