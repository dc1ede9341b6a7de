package dev.redoubt.sstable;

import java.util.HexFormat;

/** Keys in messages: hex, cut after {@value #SHOWN_BYTES} bytes so a 32 KiB key cannot flood a log. Stateless. */
final class Keys {
    static final int SHOWN_BYTES = 32;

    private Keys() {
    }

    static String describe(byte[] key) {
        return describe(key, 0, key.length);
    }

    static String describe(byte[] bytes, int from, int length) {
        int shown = Math.min(length, SHOWN_BYTES);
        String hex = HexFormat.of().formatHex(bytes, from, from + shown);
        return length > shown ? "0x" + hex + "...(" + length + " bytes)" : "0x" + hex;
    }
}
