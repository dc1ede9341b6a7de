package dev.redoubt.replication.raft;

import dev.redoubt.common.ErrorCode;
import dev.redoubt.common.StorageException;
import dev.redoubt.engine.KeyValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A scan through a Raft group, page by page (each page a linearizable SCAN query of at most
 * {@value RaftCommand#MAX_SCAN_ENTRIES} entries), until the range is done or {@code limit} entries were returned.
 * The next page starts at the smallest key after the last one returned. Not thread-safe.
 */
final class RaftScanIterator implements Iterator<KeyValue> {
    private final RaftKvClient client;
    private final byte[] to;
    private long remaining;
    private byte[] next;
    private Iterator<KeyValue> page = Collections.emptyIterator();
    private boolean done;

    RaftScanIterator(RaftKvClient client, byte[] from, byte[] to, long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("a scan limit must be >= 0, got " + limit);
        }
        this.client = client;
        this.to = to;
        this.next = from == null ? new byte[0] : from;
        this.remaining = limit;
    }

    @Override
    public boolean hasNext() {
        while (!page.hasNext() && !done && remaining > 0) {
            QueryAnswer.Page p;
            try {
                p = client.scanPage(next, to, (int) Math.min(RaftCommand.MAX_SCAN_ENTRIES, remaining));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (p.more() && p.entries().isEmpty()) {
                throw new StorageException(ErrorCode.CORRUPTION, "a scan page said more keys follow but held none");
            }
            done = !p.more();
            if (!p.entries().isEmpty()) {
                byte[] last = p.entries().get(p.entries().size() - 1).key();
                next = Arrays.copyOf(last, last.length + 1); // the smallest key after the last one
            }
            page = p.entries().iterator();
        }
        return remaining > 0 && page.hasNext();
    }

    @Override
    public KeyValue next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        remaining--;
        return page.next();
    }
}
