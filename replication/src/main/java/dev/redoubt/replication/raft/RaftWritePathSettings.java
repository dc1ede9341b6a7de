package dev.redoubt.replication.raft;

import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;

/**
 * The Ratis settings of a member's write path that differ from Ratis' defaults, each chosen for small writes on
 * small machines (docs/raft-design.md, "The write path", has the measurements behind each). None of
 * them changes what is durable when a write is acknowledged: an entry still commits only once a majority has it
 * fsynced in its Raft log.
 *
 * <ul>
 *   <li><b>Follower appends not composed</b> ({@code raft.server.log.append-entries.compose.enabled=false}): by
 *       default a follower chains each append behind the previous one's completion on the common fork-join pool,
 *       which on a machine with fewer than 3 cores starts a thread per task; off, the follower hands each append
 *       straight to its log worker, which already keeps them in order and fsyncs what is queued at once.</li>
 *   <li><b>No read lock on the log for appenders</b> ({@code raft.server.log.read.lock.enabled=false}): Ratis'
 *       option for RATIS-2129, where the log appenders wait for the log worker's lock while it writes; the log's
 *       entries are immutable once appended, which is what the appenders read.</li>
 * </ul>
 *
 * <p>Left at their defaults:
 * <ul>
 *   <li>{@code raft.server.log.log-metadata.enabled} (on): the leader logs its commit index as an extra entry
 *       after each commit round, so a restarted member knows its commit index from its own log. With writes
 *       batched into entries ({@link RaftWriteBatcher}) it costs one small entry per commit round, not per write.
 *       Off, two snapshot tests failed (a follower restarted next to a leader that had purged its log was sent a
 *       snapshot where it had been sent the log before); not understood yet, so not changed.</li>
 *   <li>{@code raft.server.log.async-flush.enabled} (off). In Ratis 3.3.0 the asynchronous flush marks
 *       as flushed the last entry written when the fsync <em>completes</em>, and does so even when it failed, so an
 *       entry written during an fsync could be acknowledged before it is on disk.</li>
 * </ul>
 */
final class RaftWritePathSettings {
    private RaftWritePathSettings() {
    }

    static void applyTo(RaftProperties properties) {
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(properties, false);
        RaftServerConfigKeys.Log.setReadLockEnabled(properties, false);
    }
}
