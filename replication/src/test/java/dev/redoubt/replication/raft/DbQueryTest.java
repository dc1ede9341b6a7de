package dev.redoubt.replication.raft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redoubt.engine.Db;
import dev.redoubt.engine.DbOptions;
import dev.redoubt.engine.KeyValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Answering GET and SCAN from a member's engine: client keys only, and SCAN pages bounded by count and bytes. */
class DbQueryTest {
    @TempDir
    Path tmp;

    private Db db;

    @BeforeEach
    void open() {
        db = Db.open(tmp.resolve("db"), DbOptions.defaults());
        db.put(RaftKeySpace.APPLIED_KEY, new byte[16]); // metadata, as the state machine keeps it
        db.put(new byte[] {0x00}, bytes("more metadata"));
    }

    @AfterEach
    void close() {
        db.close();
    }

    @Test
    void aScanShowsClientKeysWithoutTheirPrefixAndNeverTheMetadata() {
        db.put(RaftKeySpace.stored(bytes("a")), bytes("1"));
        db.put(RaftKeySpace.stored(bytes("b")), bytes("2"));
        db.put(new byte[] {0x02, 'x'}, bytes("outside the client key space"));
        QueryAnswer.Page page = scan(null, null, 10, 9);
        assertThat(page.entries()).extracting(e -> new String(e.key(), StandardCharsets.UTF_8)).containsExactly("a", "b");
        assertThat(page.more()).isFalse();
        assertThat(page.appliedIndex()).isEqualTo(9);
        assertThat(scan(bytes("b"), null, 10, 0).entries()).hasSize(1);
        assertThat(scan(new byte[0], bytes("b"), 10, 0).entries()).hasSize(1);
        assertThat(QueryAnswer.decodeValue(DbQuery.answer(db, RaftCommand.get(bytes("b")), 4)).value()).isEqualTo(bytes("2"));
        assertThat(QueryAnswer.decodeValue(DbQuery.answer(db, RaftCommand.get(new byte[0]), 4)).value()).isNull();
    }

    @Test
    void aScanPageStopsAtItsEntryLimitAndSaysMoreFollow() {
        for (int i = 0; i < 5; i++) {
            db.put(RaftKeySpace.stored(bytes("k" + i)), bytes("v"));
        }
        QueryAnswer.Page page = scan(null, null, 3, 0);
        assertThat(page.entries()).hasSize(3);
        assertThat(page.more()).isTrue();
        assertThat(scan(null, null, 5, 0).more()).as("exactly the limit left: nothing more").isFalse();
    }

    @Test
    void aScanPageStaysWithinAMebibyteYetAlwaysHoldsItsFirstEntry() {
        byte[] tenth = new byte[DbQuery.MAX_PAGE_BYTES / 10];
        for (int i = 0; i < 12; i++) {
            db.put(RaftKeySpace.stored(bytes("m" + i)), tenth);
        }
        QueryAnswer.Page page = scan(bytes("m"), bytes("n"), RaftCommand.MAX_SCAN_ENTRIES, 0);
        long size = page.entries().stream().mapToLong(e -> e.key().length + e.value().length).sum();
        assertThat(size).isLessThanOrEqualTo(DbQuery.MAX_PAGE_BYTES);
        assertThat(page.entries()).hasSizeLessThan(12);
        assertThat(page.more()).isTrue();

        byte[] big = new byte[DbQuery.MAX_PAGE_BYTES + 1];
        Arrays.fill(big, (byte) 3);
        db.put(RaftKeySpace.stored(bytes("z0")), big);
        db.put(RaftKeySpace.stored(bytes("z1")), bytes("small"));
        QueryAnswer.Page alone = scan(bytes("z"), null, RaftCommand.MAX_SCAN_ENTRIES, 0);
        assertThat(alone.entries()).extracting(KeyValue::value).containsExactly(big);
        assertThat(alone.more()).isTrue();
    }

    private QueryAnswer.Page scan(byte[] from, byte[] to, int limit, long applied) {
        return QueryAnswer.decodePage(DbQuery.answer(db, RaftCommand.scan(from == null ? new byte[0] : from, to, limit), applied));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
