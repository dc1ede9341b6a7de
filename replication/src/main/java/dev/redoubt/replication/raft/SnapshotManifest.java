package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The manifest of one Raft snapshot, the file {@value #FILE_NAME} inside its directory: the (term, index) the
 * snapshot covers and the files that make it, each with its size and MD5 digest. {@link DbSnapshotStorage} writes
 * it last, after the engine's checkpoint is durable, and reads it back before it reports the snapshot to Ratis or
 * installs it into the engine. It travels with the snapshot (Ratis ships it like the other files).
 *
 * <p>Format: UTF-8 text; every line ends with {@code '\n'}; single spaces between fields; nothing after the last
 * line:
 * <pre>
 * redoubt-raft-snapshot 1
 * term &lt;decimal, 0 or more&gt;
 * index &lt;decimal, 1 or more&gt;
 * file &lt;MD5: 32 lowercase hex digits&gt; &lt;size: decimal bytes&gt; &lt;path inside the snapshot directory&gt;
 * ...                                                   (1 to {@value #MAX_FILES} file lines)
 * end &lt;CRC32C of every byte before this line: 8 lowercase hex digits&gt;
 * </pre>
 * A path is an engine checkpoint name only: {@code CURRENT}, {@code MANIFEST-<digits>} or {@code sst/<digits>.sst}
 * (so no {@code ..}, no absolute path, nothing outside the directory); no path twice; {@code CURRENT} listed.
 * Anything else (a missing, extra or reordered line, a bad number, a checksum mismatch, a file over
 * {@value #MAX_BYTES} bytes) is reported as {@link ErrorCode#CORRUPTION} and the snapshot is not used.
 *
 * <p>Immutable, so thread-safe.
 */
final class SnapshotManifest {
    static final String FILE_NAME = "RAFT-SNAPSHOT";
    static final String MAGIC_LINE = "redoubt-raft-snapshot 1";
    static final int MAX_FILES = 1_000_000;
    static final int MAX_BYTES = 128 << 20;
    static final Pattern PATH = Pattern.compile("CURRENT|MANIFEST-[0-9]{1,20}|sst/[0-9]{1,20}\\.sst");
    private static final Pattern MD5 = Pattern.compile("[0-9a-f]{32}");
    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]{0,18}");
    private static final Pattern FILE_LINE = Pattern.compile("file ([^ ]+) ([^ ]+) ([^ ]+)");

    /** One file of the snapshot. */
    record Entry(String path, long size, String md5) {
    }

    private final long term;
    private final long index;
    private final List<Entry> files;

    SnapshotManifest(long term, long index, List<Entry> files) {
        if (term < 0 || index < 1) {
            throw new IllegalArgumentException("a snapshot covers term >= 0 and index >= 1, not " + term + "/" + index);
        }
        this.term = term;
        this.index = index;
        this.files = List.copyOf(files);
        checkFiles(this.files);
    }

    long term() {
        return term;
    }

    long index() {
        return index;
    }

    List<Entry> files() {
        return files;
    }

    /** Writes the manifest to {@code file} (which must not exist) and fsyncs it; the caller fsyncs the directory. */
    void write(Path file) throws IOException {
        StringBuilder text = new StringBuilder(64 + files.size() * 64);
        text.append(MAGIC_LINE).append('\n');
        text.append("term ").append(term).append('\n');
        text.append("index ").append(index).append('\n');
        for (Entry e : files) {
            text.append("file ").append(e.md5()).append(' ').append(e.size()).append(' ').append(e.path()).append('\n');
        }
        byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
        byte[] end = ("end " + crcHex(body, body.length) + "\n").getBytes(StandardCharsets.UTF_8);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(body.length + end.length).put(body).put(end).flip();
            while (b.hasRemaining()) {
                out.write(b);
            }
            out.force(true);
        }
    }

    /** Reads and checks a manifest; {@link ErrorCode#CORRUPTION} saying what is wrong if it is not intact. */
    static SnapshotManifest read(Path file) throws IOException {
        long bytes = Files.size(file);
        if (bytes > MAX_BYTES) {
            throw damaged(file, "it has " + bytes + " bytes, over the limit of " + MAX_BYTES);
        }
        byte[] all = Files.readAllBytes(file);
        if (all.length == 0 || all[all.length - 1] != '\n') {
            throw damaged(file, "it does not end with a complete line (cut short?)");
        }
        int endLine = lastLineStart(all);
        String end = new String(all, endLine, all.length - endLine - 1, StandardCharsets.UTF_8);
        String expected = "end " + crcHex(all, endLine);
        if (!end.equals(expected)) {
            throw damaged(file, "its last line is '" + shorten(end) + "', expected '" + expected + "' (checksum of the lines before)");
        }
        String[] lines = new String(all, 0, endLine, StandardCharsets.UTF_8).split("\n", -1);
        // lines ends with "" (the text before the end line ends with '\n')
        if (lines.length < 5 || !lines[0].equals(MAGIC_LINE)) {
            throw damaged(file, "it does not start with '" + MAGIC_LINE + "' followed by term, index and files");
        }
        long term = number(file, lines[1], "term ");
        long index = number(file, lines[2], "index ");
        List<Entry> entries = new ArrayList<>();
        for (int i = 3; i < lines.length - 1; i++) {
            Matcher m = FILE_LINE.matcher(lines[i]);
            if (!m.matches() || !MD5.matcher(m.group(1)).matches() || !DECIMAL.matcher(m.group(2)).matches()) {
                throw damaged(file, "line " + (i + 1) + " '" + shorten(lines[i]) + "' is not 'file <md5> <size> <path>'");
            }
            entries.add(new Entry(m.group(3), Long.parseLong(m.group(2)), m.group(1)));
        }
        if (index < 1) {
            throw damaged(file, "it names index " + index + "; a snapshot covers index 1 or more");
        }
        try {
            return new SnapshotManifest(term, index, entries);
        } catch (IllegalArgumentException e) {
            throw damaged(file, e.getMessage());
        }
    }

    private static void checkFiles(List<Entry> files) {
        if (files.isEmpty() || files.size() > MAX_FILES) {
            throw new IllegalArgumentException("a snapshot has 1 to " + MAX_FILES + " files, not " + files.size());
        }
        Set<String> seen = new HashSet<>();
        for (Entry e : files) {
            if (!PATH.matcher(e.path()).matches()) {
                throw new IllegalArgumentException("'" + shorten(e.path()) + "' is not a checkpoint file name"
                        + " (CURRENT, MANIFEST-<n> or sst/<n>.sst)");
            }
            if (!seen.add(e.path())) {
                throw new IllegalArgumentException(e.path() + " is listed twice");
            }
            if (e.size() < 0 || !MD5.matcher(e.md5()).matches()) {
                throw new IllegalArgumentException(e.path() + " has size " + e.size() + " and MD5 '" + shorten(e.md5()) + "'");
            }
        }
        if (!seen.contains("CURRENT")) {
            throw new IllegalArgumentException("CURRENT is not listed, so the checkpoint cannot be opened");
        }
    }

    private static long number(Path file, String line, String prefix) {
        if (!line.startsWith(prefix) || !DECIMAL.matcher(line.substring(prefix.length())).matches()) {
            throw damaged(file, "line '" + shorten(line) + "' is not '" + prefix + "<decimal>'");
        }
        return Long.parseLong(line.substring(prefix.length()));
    }

    /** The offset of the last line of {@code all} (which ends with '\n'). */
    private static int lastLineStart(byte[] all) {
        int i = all.length - 2;
        while (i >= 0 && all[i] != '\n') {
            i--;
        }
        return i + 1;
    }

    private static String crcHex(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return String.format("%08x", crc.getValue());
    }

    private static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    private static StorageException damaged(Path file, String why) {
        return new StorageException(ErrorCode.CORRUPTION, "snapshot manifest " + file + " is damaged: " + why);
    }
}
