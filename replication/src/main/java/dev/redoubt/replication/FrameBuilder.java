package dev.redoubt.replication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Builds one frame body (see {@link Frame} for the layout); reusable after {@link #start}. */
final class FrameBuilder {
    private ByteBuffer body = ByteBuffer.allocate(256);

    FrameBuilder start(FrameType type) {
        body.clear();
        return u8(type.code);
    }

    FrameBuilder u8(int v) {
        ensure(1).put((byte) v);
        return this;
    }

    FrameBuilder u16(int v) {
        ensure(2).putShort((short) v);
        return this;
    }

    FrameBuilder u32(int v) {
        ensure(4).putInt(v);
        return this;
    }

    FrameBuilder u64(long v) {
        ensure(8).putLong(v);
        return this;
    }

    FrameBuilder bytes32(byte[] b) {
        if (b.length != 32) {
            throw new IllegalArgumentException("expected 32 bytes, got " + b.length);
        }
        ensure(32).put(b);
        return this;
    }

    FrameBuilder str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, Frame.MAX_STRING_BYTES);
        u16(n);
        ensure(n).put(b, 0, n);
        return this;
    }

    FrameBuilder blob(byte[] b) {
        if (b == null) {
            return u32(-1);
        }
        u32(b.length);
        ensure(b.length).put(b);
        return this;
    }

    /** A blob of {@code length} bytes copied from {@code src} (a WAL record run). */
    FrameBuilder blob(org.agrona.DirectBuffer src, int index, int length) {
        u32(length);
        ByteBuffer dst = ensure(length);
        src.getBytes(index, dst, dst.position(), length);
        dst.position(dst.position() + length);
        return this;
    }

    /** The body buffer with room for {@code n} more bytes at its position (for raw appends). */
    ByteBuffer ensure(int n) {
        if (body.remaining() < n) {
            long needed = (long) body.position() + n;
            if (needed > Frame.MAX_BODY_BYTES) {
                throw new IllegalArgumentException("a frame of " + needed + " bytes exceeds " + Frame.MAX_BODY_BYTES);
            }
            ByteBuffer bigger = ByteBuffer.allocate((int) Math.min(Frame.MAX_BODY_BYTES, Math.max(needed, 2L * body.capacity())));
            body.flip();
            bigger.put(body);
            body = bigger;
        }
        return body;
    }

    int position() {
        return body.position();
    }

    /** Overwrites a u32 written earlier at {@code at} (a length known only after the content). */
    void putU32At(int at, int v) {
        body.putInt(at, v);
    }

    void putU64At(int at, long v) {
        body.putLong(at, v);
    }

    /** The body so far: valid until the next change. */
    ByteBuffer body() {
        return body.duplicate().flip();
    }
}
