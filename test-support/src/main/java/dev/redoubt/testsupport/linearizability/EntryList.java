package dev.redoubt.testsupport.linearizability;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The call and return events of a {@link KeyHistory} in time order, as a doubly linked list from which the search
 * lifts an operation (both its events) when it linearizes it and puts it back when it backtracks. An INFO operation
 * returns at {@link Operation#COMPLETION_UNKNOWN}, after every real event. At equal times calls come first, so
 * operations that touch at one instant are concurrent. Not thread-safe: owned by one search.
 */
final class EntryList {

    static final class Entry {
        final int op;
        final boolean isCall;
        /** The call of a return, the return of a call. */
        Entry match;
        Entry prev;
        Entry next;

        Entry(int op, boolean isCall) {
            this.op = op;
            this.isCall = isCall;
        }
    }

    private final Entry head = new Entry(-1, false);

    EntryList(List<Operation> ops) {
        List<long[]> events = new ArrayList<>(2 * ops.size());
        for (int i = 0; i < ops.size(); i++) {
            events.add(new long[] {ops.get(i).invokeNanos(), 0, i});
            events.add(new long[] {ops.get(i).completeNanos(), 1, i});
        }
        // Time, then calls (0) before returns (1), then operation.
        events.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1])
                .thenComparingLong(e -> e[2]));
        Entry[] calls = new Entry[ops.size()];
        Entry last = head;
        for (long[] event : events) {
            int op = (int) event[2];
            Entry entry = new Entry(op, event[1] == 0);
            if (entry.isCall) {
                calls[op] = entry;
            } else {
                entry.match = calls[op];
                calls[op].match = entry;
            }
            entry.prev = last;
            last.next = entry;
            last = entry;
        }
    }

    /** The earliest event not lifted, or {@code null} when every operation is linearized. */
    Entry first() {
        return head.next;
    }

    /** Removes a call and its return. */
    static void lift(Entry call) {
        assert call.isCall;
        call.prev.next = call.next;
        call.next.prev = call.prev; // a call is always followed, at least by its own return
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    /** Undoes the {@link #lift} of {@code call}; lifts must be undone in reverse order. */
    static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        call.next.prev = call;
    }
}
