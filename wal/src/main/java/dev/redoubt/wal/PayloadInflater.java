package dev.redoubt.wal;

import java.nio.ByteBuffer;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Inflates LZ4-compressed record payloads into one reusable direct buffer (the leader's apply, a replica's
 * check, a reader). The raw length was bounded by the header checks ({@link WalRecordDescriptor#invalidFields}),
 * so the buffer never grows past {@link WalRecordDescriptor#MAX_PAYLOAD_BYTES}.
 *
 * <p>Not thread-safe: one per owner.
 */
final class PayloadInflater {
    private static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();

    private ByteBuffer inflated = ByteBuffer.allocateDirect(0);
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);

    /**
     * Inflates the record payload at {@code index} of {@code record} ({@code stored} bytes; the index is
     * relative to {@code record}, which must wrap a {@link ByteBuffer}) to exactly {@code raw} bytes. Returns a
     * view of them, valid until the next call, or null when the bytes do not inflate to exactly {@code raw}.
     */
    DirectBuffer inflate(DirectBuffer record, int index, int stored, int raw) {
        if (inflated.capacity() < raw) {
            BufferUtil.free(inflated);
            inflated = ByteBuffer.allocateDirect(raw);
        }
        int n;
        try {
            n = DECOMPRESSOR.decompress(record.byteBuffer(), (int) record.wrapAdjustment() + index, stored, inflated, 0, raw);
        } catch (LZ4Exception e) {
            n = -1;
        }
        if (n != raw) {
            return null;
        }
        view.wrap(inflated, 0, raw);
        return view;
    }

    /** Returns the off-heap memory now rather than whenever the GC finds the buffer. */
    void free() {
        BufferUtil.free(inflated);
        inflated = ByteBuffer.allocateDirect(0);
    }
}
