package dev.redoubt.sstable;

import dev.redoubt.testsupport.SimulatedStorageEnv;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Forges damage that checksums cannot catch: changes bytes of a block or footer and rewrites its checksum, so
 * that a test reaches the checks behind the checksum (lengths, counts, order).
 */
final class Tamper {
    private Tamper() {
    }

    /** Applies {@code change} to the footer (its 52 bytes), then recomputes the footer checksum. */
    static void footer(SimulatedStorageEnv env, Path path, Consumer<byte[]> change) throws NoSuchFileException {
        byte[] file = env.readAllBytes(path);
        int start = file.length - SstDescriptor.FOOTER_LENGTH;
        byte[] footer = java.util.Arrays.copyOfRange(file, start, file.length);
        change.accept(footer);
        SstDescriptor.putInt(footer, SstDescriptor.FOOTER_CRC_OFFSET, SstDescriptor.footerChecksum(footer));
        env.writeRaw(path, start, footer);
    }

    /**
     * Applies {@code change} to the stored bytes and trailer of the block at {@code h} (one array: stored bytes
     * at 0, trailer at {@code h.size()}), then recomputes the block checksum.
     */
    static void block(SimulatedStorageEnv env, Path path, BlockHandle h, Consumer<byte[]> change)
            throws NoSuchFileException {
        byte[] file = env.readAllBytes(path);
        byte[] block = java.util.Arrays.copyOfRange(file, (int) h.offset(), (int) h.end());
        change.accept(block);
        SstDescriptor.putInt(block, h.size() + SstDescriptor.TRAILER_CRC_OFFSET,
                SstDescriptor.blockChecksum(block, 0, h.size(), block, h.size()));
        env.writeRaw(path, h.offset(), block);
    }

    static Footer readFooter(SimulatedStorageEnv env, Path path) throws NoSuchFileException {
        byte[] file = env.readAllBytes(path);
        byte[] footer = java.util.Arrays.copyOfRange(file, file.length - SstDescriptor.FOOTER_LENGTH, file.length);
        return Footer.decode(footer, file.length, path);
    }

    /** Offset of the first occurrence of {@code needle} in the file. */
    static int find(SimulatedStorageEnv env, Path path, byte[] needle) throws NoSuchFileException {
        byte[] file = env.readAllBytes(path);
        outer:
        for (int i = 0; i + needle.length <= file.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (file[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
