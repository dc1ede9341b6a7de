package dev.redoubt.sstable;

import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Limits;
import java.util.Arrays;

/**
 * A position within one {@link Block}: decodes entries (grammar in {@link SstDescriptor}), checking every
 * length against the block before using it, and seeks by binary search over the restart points followed by
 * a scan of at most one restart interval. The current key is rebuilt in a reused buffer, so moving the
 * cursor allocates only when a longer key than any before appears.
 *
 * <p>Not thread-safe: one cursor per lookup or iterator; many cursors may share a block.
 */
final class BlockCursor {
    private Block block;
    private byte[] bytes;
    /** End of the entries (start of the restart array). */
    private int limit;
    /** Scratch read position of the varint decoder. */
    private int pos;

    private boolean valid;
    private int entryOffset;
    private int nextOffset;
    private byte[] key = new byte[64];
    private int keyLength;
    private long sequence;
    private EntryKind kind;
    private int valueOffset;
    private int valueLength;

    /** Points the cursor at {@code b}, unpositioned. */
    BlockCursor reset(Block b) {
        this.block = b;
        this.bytes = b.bytes();
        this.limit = b.restartsOffset();
        this.valid = false;
        return this;
    }

    void seekToFirst() {
        seekToRestart(0);
    }

    /** Positions at the first entry at or after ({@code target}, {@code targetSequence}) in internal order. */
    void seek(byte[] target, long targetSequence) {
        // Find the last restart whose key sorts before the target; the answer is at or after it.
        int lo = 0;
        int hi = block.restartCount() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (compareRestart(mid, target, targetSequence) < 0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        seekToRestart(lo);
        while (valid && compareTo(target, targetSequence) < 0) {
            next();
        }
    }

    /** REQUIRES {@link #valid()}. */
    void next() {
        assert valid;
        decodeAt(nextOffset);
    }

    boolean valid() {
        return valid;
    }

    /** The current key is {@code keyBuffer()[0, keyLength())}; the buffer is overwritten by the next move. */
    byte[] keyBuffer() {
        return key;
    }

    int keyLength() {
        return keyLength;
    }

    long sequence() {
        return sequence;
    }

    EntryKind kind() {
        return kind;
    }

    /** The current value is {@code blockBytes()[valueOffset(), valueOffset() + valueLength())}. */
    byte[] blockBytes() {
        return bytes;
    }

    int valueOffset() {
        return valueOffset;
    }

    int valueLength() {
        return valueLength;
    }

    /** Offset of the current entry within the block's contents. */
    int entryOffset() {
        return entryOffset;
    }

    Block block() {
        return block;
    }

    /** The current entry compared with ({@code target}, {@code targetSequence}) in internal order. */
    int compareTo(byte[] target, long targetSequence) {
        int c = Arrays.compareUnsigned(key, 0, keyLength, target, 0, target.length);
        return c != 0 ? c : Long.compare(targetSequence, sequence);
    }

    /** Whether the current key equals {@code target}. */
    boolean keyEquals(byte[] target) {
        return Arrays.equals(key, 0, keyLength, target, 0, target.length);
    }

    private void seekToRestart(int i) {
        keyLength = 0;
        decodeAt(block.restart(i));
    }

    private void decodeAt(int offset) {
        if (offset >= limit) {
            valid = false;
            return;
        }
        entryOffset = offset;
        pos = offset;
        int shared = readVarint32("shared length");
        int unshared = readVarint32("unshared length");
        int vlen = readVarint32("value length");
        EntryKind k = readKind();
        long seq = readVarint64();
        if (shared > keyLength) {
            throw block.corrupt(offset, "entry shares " + shared + " key bytes with a previous key of "
                    + keyLength + (keyLength == 0 ? " (a restart point must share none)" : ""));
        }
        if (unshared > limit - pos || shared + unshared > Limits.MAX_KEY_BYTES) {
            throw block.corrupt(offset, "entry key of " + shared + " + " + unshared
                    + " bytes overruns the block or exceeds " + Limits.MAX_KEY_BYTES);
        }
        if (vlen > limit - pos - unshared) {
            throw block.corrupt(offset, "entry value of " + vlen + " bytes overruns the block");
        }
        int length = shared + unshared;
        if (key.length < length) {
            key = Arrays.copyOf(key, Math.min(Limits.MAX_KEY_BYTES, Math.max(length, 2 * key.length)));
        }
        System.arraycopy(bytes, pos, key, shared, unshared);
        keyLength = length;
        kind = k;
        sequence = seq;
        valueOffset = pos + unshared;
        valueLength = vlen;
        nextOffset = valueOffset + vlen;
        valid = true;
    }

    /** Compares the key of restart {@code i}, stored whole, with the target, without moving the cursor. */
    private int compareRestart(int i, byte[] target, long targetSequence) {
        int offset = block.restart(i);
        pos = offset;
        int shared = readVarint32("shared length");
        int unshared = readVarint32("unshared length");
        readVarint32("value length");
        readKind();
        long seq = readVarint64();
        if (shared != 0) {
            throw block.corrupt(offset, "restart point entry shares " + shared + " key bytes (must be 0)");
        }
        if (unshared > limit - pos) {
            throw block.corrupt(offset, "restart key of " + unshared + " bytes overruns the block");
        }
        int c = Arrays.compareUnsigned(bytes, pos, pos + unshared, target, 0, target.length);
        return c != 0 ? c : Long.compare(targetSequence, seq);
    }

    private EntryKind readKind() {
        if (pos >= limit) {
            throw block.corrupt(pos, "entry header overruns the block");
        }
        byte code = bytes[pos++];
        EntryKind k = EntryKind.fromCode(code);
        if (k == null) {
            throw block.corrupt(pos - 1, "unknown entry kind " + code);
        }
        return k;
    }

    private int readVarint32(String field) {
        int start = pos;
        int result = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            if (pos >= limit) {
                throw block.corrupt(start, "entry " + field + " overruns the block");
            }
            int b = bytes[pos++];
            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (shift == 28 && (b & 0x78) != 0) {
                    break; // more than 31 bits
                }
                return result;
            }
        }
        throw block.corrupt(start, "entry " + field + " is not a varint32 below 2^31");
    }

    private long readVarint64() {
        int start = pos;
        long result = 0;
        for (int shift = 0; shift < 63; shift += 7) {
            if (pos >= limit) {
                throw block.corrupt(start, "entry sequence overruns the block");
            }
            long b = bytes[pos++];
            result |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw block.corrupt(start, "entry sequence is not a varint64 below 2^63");
    }
}
