package dev.redoubt.sstable;

import static dev.redoubt.sstable.SstDescriptor.FOOTER_CRC_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.FOOTER_FILTER_OFFSET_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.FOOTER_INDEX_OFFSET_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.FOOTER_LENGTH;
import static dev.redoubt.sstable.SstDescriptor.FOOTER_MAGIC_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.FOOTER_PROPERTIES_OFFSET_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.FOOTER_VERSION_OFFSET;
import static dev.redoubt.sstable.SstDescriptor.FORMAT_VERSION;
import static dev.redoubt.sstable.SstDescriptor.MAX_META_BLOCK_BYTES;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.nio.file.Path;

/**
 * A checked footer: the handles of the index, filter and properties blocks, proven to lie back to back
 * right before the footer, each within {@link SstDescriptor#MAX_META_BLOCK_BYTES}. Immutable.
 */
record Footer(BlockHandle index, BlockHandle filter, BlockHandle properties, long fileBytes) {

    /** File offset of the footer's first byte. */
    long start() {
        return fileBytes - FOOTER_LENGTH;
    }

    /**
     * Checks the last {@link SstDescriptor#FOOTER_LENGTH} bytes of a {@code fileBytes}-byte file, in the
     * order that gives the clearest complaint: magic (is this a table at all), checksum, version, layout.
     */
    static Footer decode(byte[] b, long fileBytes, Path file) {
        long start = fileBytes - FOOTER_LENGTH;
        long magic = SstDescriptor.footerMagic(b);
        if (magic != SstDescriptor.MAGIC) {
            throw new SstCorruptionException(file, start + FOOTER_MAGIC_OFFSET, String.format(
                    "bad magic 0x%016x (expected 0x%016x, \"RDBT.SST\"): not a Redoubt SSTable, or truncated",
                    magic, SstDescriptor.MAGIC));
        }
        int stored = SstDescriptor.footerStoredChecksum(b);
        int computed = SstDescriptor.footerChecksum(b);
        if (stored != computed) {
            // Named by the first byte it covers, as a block's mismatch is: the damage lies in [start, CRC field].
            throw new SstCorruptionException(file, start, String.format(
                    "footer checksum mismatch over bytes %d..%d (stored 0x%08x, computed 0x%08x)", start,
                    start + FOOTER_CRC_OFFSET + Integer.BYTES - 1, stored, computed));
        }
        int version = SstDescriptor.footerVersion(b);
        if (version > FORMAT_VERSION) {
            throw new StorageException(ErrorCode.INVALID_STATE, "SSTable " + file + " has newer format version "
                    + version + " (this build reads up to " + FORMAT_VERSION + "): open it with a newer Redoubt");
        }
        if (version < 1) {
            throw new SstCorruptionException(file, start + FOOTER_VERSION_OFFSET,
                    "format version " + version + " is below 1");
        }
        BlockHandle index = SstDescriptor.footerIndex(b);
        BlockHandle filter = SstDescriptor.footerFilter(b);
        BlockHandle properties = SstDescriptor.footerProperties(b);
        // Each block starts where the previous one ends; the index follows at least one data block, and the
        // properties end where the footer starts. Checked in file order, each before its end() is computed.
        checkHandle(index, "index", index.offset() >= 1 && index.offset() <= start, "at least 1", start, false,
                file, start + FOOTER_INDEX_OFFSET_OFFSET);
        checkHandle(filter, "filter", filter.offset() == index.end(), String.valueOf(index.end()), start, false,
                file, start + FOOTER_FILTER_OFFSET_OFFSET);
        checkHandle(properties, "properties", properties.offset() == filter.end(), String.valueOf(filter.end()),
                start, true, file, start + FOOTER_PROPERTIES_OFFSET_OFFSET);
        return new Footer(index, filter, properties, fileBytes);
    }

    private static void checkHandle(BlockHandle h, String what, boolean offsetOk, String wantedOffset,
                                    long footerStart, boolean last, Path file, long fieldAt) {
        boolean sizeOk = h.size() >= 0 && h.size() <= MAX_META_BLOCK_BYTES;
        boolean endOk = offsetOk && sizeOk && (last ? h.end() == footerStart : h.end() <= footerStart);
        if (!endOk) {
            throw new SstCorruptionException(file, fieldAt, what + " block handle " + h + " is not where the"
                    + " layout puts it: blocks lie back to back, so it must start at byte " + wantedOffset + ", hold"
                    + " at most " + MAX_META_BLOCK_BYTES + " bytes and end " + (last ? "at" : "by")
                    + " the footer at byte " + footerStart);
        }
    }
}
