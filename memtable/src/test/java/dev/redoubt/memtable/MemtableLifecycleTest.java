package dev.redoubt.memtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redoubt.common.EntryIterator;
import dev.redoubt.common.EntryKind;
import dev.redoubt.common.Found;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.agrona.BufferUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** markImmutable, close, and the references that keep off-heap memory alive while a reader can touch it. */
class MemtableLifecycleTest {

    @Test
    void markImmutableRefusesLaterAddsAndKeepsReads() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b(1), 1, EntryKind.PUT, b(10));
            m.markImmutable();
            m.markImmutable();
            assertThat(m.isImmutable()).isTrue();
            assertThatThrownBy(() -> m.add(b(2), 2, EntryKind.PUT, b(20)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("immutable");
            assertThat(m.get(b(1), 1).value()).isEqualTo(b(10));
            assertThat(m.entryCount()).isEqualTo(1);
        }
    }

    @Test
    void closeWithNoReaderFreesTheArenaAtOnce() {
        Memtable m = new Memtable(1 << 20);
        m.add(b(1), 1, EntryKind.PUT, b(10));
        assertThat(m.arenaReservedBytes()).isPositive();
        m.close();
        assertThat(m.isReleased()).isTrue();
        assertThat(m.references()).isZero();
        assertThat(m.arenaReservedBytes()).isZero();
    }

    @Test
    void closeIsIdempotentAndAfterItAddGetAndIteratorAreRefused() {
        Memtable m = new Memtable(1 << 20);
        m.add(b(1), 1, EntryKind.PUT, b(10));
        m.close();
        m.close();
        assertThat(m.references()).isZero();
        assertThatThrownBy(() -> m.add(b(2), 2, EntryKind.PUT, b(20))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> m.get(b(1), 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> m.iterator(1)).isInstanceOf(IllegalStateException.class);
        assertThat(m.references()).as("refusals take no reference").isZero();
    }

    @Test
    void iteratorKeepsTheMemoryAliveAfterCloseAndItsOwnCloseFreesIt() {
        Memtable m = new Memtable(1 << 20, 4096);
        for (int i = 0; i < 200; i++) {
            m.add(b(i), i, EntryKind.PUT, value(i, 300));
        }
        EntryIterator it = m.iterator(Long.MAX_VALUE);
        m.close();
        assertThat(m.isReleased()).isFalse();
        assertThat(m.references()).isEqualTo(1);
        churnDirectMemory(); // if the chunks had been freed, this would likely reuse and overwrite them
        int seen = 0;
        for (it.seekToFirst(); it.valid(); it.next()) {
            assertThat(it.value()).isEqualTo(value(it.key()[0] & 0xFF, 300));
            seen++;
        }
        assertThat(seen).isEqualTo(200);
        it.close();
        assertThat(m.isReleased()).isTrue();
        assertThat(m.references()).isZero();
    }

    @Test
    void freeWaitsForTheLastOfSeveralIteratorsAndAnIteratorReleasesOnlyOnce() {
        Memtable m = new Memtable(1 << 20);
        m.add(b(1), 1, EntryKind.PUT, b(10));
        EntryIterator first = m.iterator(5);
        EntryIterator second = m.iterator(5);
        assertThat(m.references()).isEqualTo(3);
        first.close();
        first.close();
        assertThat(m.references()).isEqualTo(2);
        m.close();
        assertThat(m.isReleased()).isFalse();
        second.seekToFirst();
        assertThat(second.value()).isEqualTo(b(10));
        second.close();
        assertThat(m.isReleased()).isTrue();
    }

    @Test
    void closedIteratorRefusesUse() {
        try (Memtable m = new Memtable(1 << 20)) {
            m.add(b(1), 1, EntryKind.PUT, b(10));
            EntryIterator it = m.iterator(1);
            it.seekToFirst();
            it.close();
            assertThatThrownBy(it::valid).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
            assertThatThrownBy(it::seekToFirst).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(it::value).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void closeReturnsTheDirectMemoryToTheJvm() {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).findFirst().orElseThrow();
        long before = direct.getMemoryUsed();
        Memtable m = new Memtable(64L << 20);
        for (int i = 0; i < 4096; i++) {
            m.add(b(i), i, EntryKind.PUT, value(i, 1000));
        }
        long reserved = m.arenaReservedBytes();
        assertThat(reserved).isGreaterThanOrEqualTo(4L << 20);
        assertThat(direct.getMemoryUsed() - before).isGreaterThanOrEqualTo(reserved);
        m.close();
        assertThat(direct.getMemoryUsed() - before).as("direct memory left after close").isLessThan(1 << 20);
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void getsRacingCloseNeverReadFreedMemory() throws Exception {
        for (int round = 0; round < 20; round++) {
            Memtable m = new Memtable(1 << 20, 4096);
            for (int i = 0; i < 256; i++) {
                m.add(b(i), i, EntryKind.PUT, value(i, 100));
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(4);
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread reader = new Thread(() -> {
                    started.countDown();
                    try {
                        for (int i = 0; ; i = (i + 1) & 0xFF) {
                            Found f = m.get(b(i), Long.MAX_VALUE);
                            if (!java.util.Arrays.equals(f.value(), value(i, 100))) {
                                throw new AssertionError("torn or freed read of key " + i);
                            }
                        }
                    } catch (IllegalStateException closed) {
                        // the expected end: the memtable was closed
                    } catch (Throwable t2) {
                        failure.set(t2);
                    }
                });
                readers.add(reader);
                reader.start();
            }
            started.await();
            Thread.sleep(2);
            m.close();
            for (Thread reader : readers) {
                reader.join();
            }
            assertThat(failure.get()).isNull();
            assertThat(m.isReleased()).isTrue();
            assertThat(m.references()).isZero();
        }
    }

    private static void churnDirectMemory() {
        for (int i = 0; i < 64; i++) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
            while (buffer.hasRemaining()) {
                buffer.put((byte) 0xEE);
            }
            BufferUtil.free(buffer);
        }
    }

    private static byte[] b(int i) {
        return new byte[] {(byte) i};
    }

    private static byte[] value(int i, int length) {
        byte[] v = new byte[length];
        for (int j = 0; j < length; j++) {
            v[j] = (byte) (i + j * 7);
        }
        return v;
    }
}
