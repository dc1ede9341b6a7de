package dev.redoubt.replication.raft;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbIterator;
import dev.redoubt.engine.KeyValue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers the read-only commands (GET, SCAN) from a member's engine, in the layouts of {@link QueryAnswer}. Only
 * client keys (the {@code 0x01} prefix of {@link RaftKeySpace}) are ever read: the metadata under {@code 0x00}
 * stays invisible. Stateless; safe from any thread (the engine's reads are).
 */
final class DbQuery {
    /**
     * A SCAN page stops before an entry that would take its keys and values past this many bytes, so an answer
     * stays near 1 MiB; its first entry is always included, so a large value (up to the engine's 8 MiB bound)
     * still comes back, alone in its page.
     */
    static final int MAX_PAGE_BYTES = 1024 * 1024;

    private DbQuery() {
    }

    /**
     * The answer to {@code command}; {@code appliedIndex} must have been read before this call, so that the
     * answer reflects at least that index.
     */
    static ByteBuffer answer(Db db, RaftCommand command, long appliedIndex) {
        return switch (command.op()) {
            case RaftCommand.GET -> QueryAnswer.encodeValue(db.get(RaftKeySpace.stored(command.key())), appliedIndex);
            case RaftCommand.SCAN -> scan(db, command, appliedIndex);
            default -> throw new IllegalArgumentException("op " + command.op() + " is a write, not a query");
        };
    }

    private static ByteBuffer scan(Db db, RaftCommand command, long appliedIndex) {
        byte[] from = RaftKeySpace.stored(command.key());
        byte[] to = command.end() == null ? RaftKeySpace.userKeysEnd() : RaftKeySpace.stored(command.end());
        List<KeyValue> entries = new ArrayList<>();
        long bytes = 0;
        boolean more = false;
        try (DbIterator it = db.scan(from, to)) {
            while (it.hasNext()) {
                if (entries.size() == command.limit()) {
                    more = true;
                    break;
                }
                KeyValue kv = it.next();
                byte[] key = RaftKeySpace.userKey(kv.key());
                long size = (long) key.length + kv.value().length;
                if (!entries.isEmpty() && bytes + size > MAX_PAGE_BYTES) {
                    more = true; // kv is not lost: the next page starts after the last key of this one
                    break;
                }
                entries.add(new KeyValue(key, kv.value()));
                bytes += size;
            }
        }
        return QueryAnswer.encodePage(entries, more, appliedIndex);
    }
}
