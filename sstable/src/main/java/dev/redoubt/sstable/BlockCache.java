package dev.redoubt.sstable;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A bounded cache of decoded data blocks shared by every {@link SstReader} of a database, keyed by the
 * reader's id (unique for the cache's lifetime, never reused, so a closed table's blocks can never be served
 * for another) and the block's file offset. Eviction is least-recently-used, per shard: the capacity is split
 * over up to {@value #MAX_SHARDS} shards (LevelDB's {@code ShardedLRUCache}), each with its own lock, so that
 * readers on different blocks rarely contend. A block counts its bytes plus {@link Block#OVERHEAD_BYTES}; the
 * total never exceeds {@link #capacityBytes()}. A block larger than a shard is not cached.
 * {@code capacityBytes == 0} disables caching: every lookup misses and nothing is kept.
 *
 * <p>Index and filter blocks are not cached here: each reader pins its own, decoded once at open.
 *
 * <p>Thread-safe: any thread may look up and insert; each shard's map is guarded by the shard's monitor,
 * the counters are lock-free.
 */
public final class BlockCache {
    static final int MAX_SHARDS = 16;
    /** Shards are at least this big, so that small caches still hold several blocks in one LRU order. */
    static final long MIN_SHARD_BYTES = 1024 * 1024;

    private final long capacityBytes;
    private final Shard[] shards;
    private final AtomicLong nextOwnerId = new AtomicLong();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    public BlockCache(long capacityBytes) {
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("capacityBytes must be >= 0 (0 disables caching), got "
                    + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
        int count = (int) Math.max(1, Math.min(MAX_SHARDS, Long.highestOneBit(capacityBytes / MIN_SHARD_BYTES)));
        this.shards = new Shard[count];
        for (int i = 0; i < count; i++) {
            shards[i] = new Shard(capacityBytes / count);
        }
    }

    public long capacityBytes() {
        return capacityBytes;
    }

    /** Lookups that found their block. */
    public long hits() {
        return hits.sum();
    }

    /** Lookups that did not (and so read the block from its file). */
    public long misses() {
        return misses.sum();
    }

    /** Bytes the cached blocks are charged, at most {@link #capacityBytes()}. */
    public long usedBytes() {
        long used = 0;
        for (Shard s : shards) {
            synchronized (s) {
                used += s.used;
            }
        }
        return used;
    }

    /** Cached blocks. */
    public int blockCount() {
        int n = 0;
        for (Shard s : shards) {
            synchronized (s) {
                n += s.map.size();
            }
        }
        return n;
    }

    /** A new owner id for a reader: never handed out twice by this cache. */
    long newOwnerId() {
        return nextOwnerId.incrementAndGet();
    }

    /** The cached block, or null (counted as a hit or a miss). */
    Block get(long owner, long offset) {
        if (capacityBytes == 0) {
            misses.increment();
            return null;
        }
        Key key = new Key(owner, offset);
        Shard s = shardOf(key);
        Block b;
        synchronized (s) {
            b = s.map.get(key);
        }
        (b == null ? misses : hits).increment();
        return b;
    }

    /** Caches {@code block}, evicting the least recently used blocks of its shard to make room. */
    void put(long owner, long offset, Block block) {
        long charge = block.chargeBytes();
        Key key = new Key(owner, offset);
        Shard s = shardOf(key);
        if (charge > s.capacity) {
            return;
        }
        synchronized (s) {
            Block previous = s.map.put(key, block);
            if (previous != null) {
                s.used -= previous.chargeBytes();
            }
            s.used += charge;
            Iterator<Map.Entry<Key, Block>> eldest = s.map.entrySet().iterator();
            while (s.used > s.capacity) {
                s.used -= eldest.next().getValue().chargeBytes();
                eldest.remove();
            }
        }
    }

    private Shard shardOf(Key key) {
        return shards[(key.hashCode() & 0x7FFFFFFF) % shards.length];
    }

    @Override
    public String toString() {
        return "BlockCache{capacityBytes=" + capacityBytes + ", usedBytes=" + usedBytes() + ", hits=" + hits()
                + ", misses=" + misses() + ", shards=" + shards.length + '}';
    }

    private record Key(long owner, long offset) {
        @Override
        public int hashCode() {
            // Blocks of one table sit at nearby offsets: mix so that they spread over shards and buckets.
            long h = owner * 0x9E3779B97F4A7C15L + offset;
            h ^= h >>> 32;
            h *= 0xD6E8FEB86659FD93L;
            return (int) (h ^ (h >>> 32));
        }
    }

    /** One LRU region. Guarded by its own monitor. */
    private static final class Shard {
        final long capacity;
        /** Access order: iteration starts at the least recently used block. */
        final LinkedHashMap<Key, Block> map = new LinkedHashMap<>(16, 0.75f, true);
        long used;

        Shard(long capacity) {
            this.capacity = capacity;
        }
    }
}
