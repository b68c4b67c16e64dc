package io.tracerboy.ingest;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventPoller;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write-behind buffer: a multi-producer Disruptor ring of pre-allocated {@link EventSlot}s. Producers (Undertow IO
 * threads) call {@link #tryPublish}, which never blocks and answers {@code false} when the ring is full. One consumer
 * drains it through an {@link EventPoller}, so the ring's size bounds the memory held by unwritten events.
 */
public final class EventRing {
    private static final Logger log = LoggerFactory.getLogger(EventRing.class);

    private final RingBuffer<EventSlot> ringBuffer;
    private final EventPoller<EventSlot> poller;
    private final LongSupplier nanoClock;
    private final PipelineStats stats;
    private final BooleanSupplier accepting;
    private volatile Thread parkedConsumer;
    private volatile boolean full;

    /** A ring for a service that always accepts events (benchmarks, tests). */
    public EventRing(int ringSizeSlots, LongSupplier nanoClock, PipelineStats stats) {
        this(ringSizeSlots, nanoClock, stats, () -> true);
    }

    /**
     * {@code accepting} tells whether the service still takes events (false once it stops): the log says "accepting
     * again" only when the ring has room and it does.
     */
    public EventRing(int ringSizeSlots, LongSupplier nanoClock, PipelineStats stats, BooleanSupplier accepting) {
        if (Integer.bitCount(ringSizeSlots) != 1) {
            throw new IllegalArgumentException("ringSizeSlots must be a power of two: " + ringSizeSlots);
        }
        // The consumer polls (EventPoller) and parks itself (parkConsumer): nothing waits on the ring's barrier, so its
        // wait strategy only signals, on every publish; the default (BlockingWaitStrategy) makes that a lock and a
        // notifyAll the IO threads contend on. This strategy's signal does nothing, and its wait is never called.
        this.ringBuffer = RingBuffer.createMultiProducer(EventSlot::new, ringSizeSlots, new BusySpinWaitStrategy());
        this.poller = ringBuffer.newPoller();
        this.ringBuffer.addGatingSequences(poller.getSequence());
        this.nanoClock = nanoClock;
        this.stats = stats;
        this.accepting = accepting;
    }

    /** Publishes one event; {@code false} when the ring is full. Safe from any number of threads; never blocks. */
    public boolean tryPublish(long timestampMs, String userId, EventKind kind) {
        return tryPublish(new TrackedEvent(timestampMs, userId, kind), null);
    }

    /** As {@link #tryPublish(TrackedEvent, CommitListener)}, for an event without an id. */
    public boolean tryPublish(long timestampMs, String userId, EventKind kind, CommitListener listener) {
        return tryPublish(new TrackedEvent(timestampMs, userId, kind), listener);
    }

    /**
     * Publishes one event whose {@code listener} (or null) is told after its batch commits; {@code false} when the
     * ring is full.
     */
    public boolean tryPublish(TrackedEvent event, CommitListener listener) {
        boolean published = ringBuffer.tryPublishEvent((slot, sequence) -> fill(slot, event, listener));
        onPublished(published, 1);
        return published;
    }

    /**
     * Publishes all the events or none: one claim of {@code events.size()} slots (the Disruptor's {@code tryNext(n)}),
     * so a request is never half accepted. {@code false}, with nothing published, when the ring lacks the room.
     * {@code events.size()} must be 1..capacity.
     */
    public boolean tryPublishAll(List<TrackedEvent> events, CommitListener listener) {
        return tryPublishAll(events, listener, null);
    }

    /** As {@link #tryPublishAll(List, CommitListener)}, every event carrying {@code request}'s key (or null). */
    public boolean tryPublishAll(List<TrackedEvent> events, CommitListener listener, RequestKey request) {
        int n = events.size();
        long last;
        try {
            last = ringBuffer.tryNext(n);
        } catch (InsufficientCapacityException full) {
            onPublished(false, n);
            return false;
        }
        long first = last - n + 1;
        for (int i = 0; i < n; i++) {
            EventSlot slot = ringBuffer.get(first + i);
            fill(slot, events.get(i), listener);
            slot.request = request;
        }
        ringBuffer.publish(first, last);
        onPublished(true, n);
        return true;
    }

    private void fill(EventSlot slot, TrackedEvent event, CommitListener listener) {
        slot.timestampMs = event.timestampMs();
        slot.userId = event.userId();
        slot.kind = event.kind();
        slot.eventId = event.eventId();
        slot.listener = listener;
        slot.request = null;
        slot.publishedNanos = nanoClock.getAsLong();
    }

    private void onPublished(boolean published, int events) {
        if (published) {
            stats.accepted.add(events);
            wakeConsumer();
        } else if (!full) { // the refusal itself is counted by the caller's gate, which also words its answer
            full = true; // a benign race between IO threads can log this twice; never once per event
            log.warn("ring full ({} events waiting): answering 503 until the writer catches up", capacitySlots());
        }
    }

    /** Whether {@code events} would fit now (a hint: another thread may take the room before a publish). */
    public boolean hasRoomFor(int events) {
        return ringBuffer.hasAvailableCapacity(events);
    }

    /** Total slots. */
    public int capacitySlots() {
        return ringBuffer.getBufferSize();
    }

    /** Slots published and not yet taken by the consumer. */
    public long depthSlots() {
        return ringBuffer.getBufferSize() - ringBuffer.remainingCapacity();
    }

    /**
     * Called by the consumer after each flush: logs once when a ring that was full has room again, and whether events
     * are accepted again (a stopping service drains its ring while it refuses every event).
     */
    void onConsumerProgress() {
        if (full && depthSlots() < capacitySlots() / 2) {
            full = false;
            log.info("ring draining: {} of {} slots in use{}", depthSlots(), capacitySlots(),
                    accepting.getAsBoolean() ? ", accepting again" : "; not accepting events: shutting down");
        }
    }

    /**
     * The publish time of the oldest event still in the ring, or {@code Long.MAX_VALUE} when it is empty. A racy read
     * for metrics: the slot may be overwritten meanwhile, which only makes the answer newer.
     */
    long headPublishedNanos() {
        long next = poller.getSequence().get() + 1;
        if (ringBuffer.getCursor() < next) {
            return Long.MAX_VALUE;
        }
        return ringBuffer.get(next).publishedNanos;
    }

    EventPoller<EventSlot> poller() {
        return poller;
    }

    /**
     * Parks the calling consumer for at most {@code maxNanos}, or not at all when something was published since it last
     * polled; {@link #tryPublish} and {@link #wakeConsumer} unpark it.
     */
    void parkConsumer(long maxNanos) {
        // Dekker-style handshake: announce the park (volatile write), then re-read the cursor (volatile read); a
        // producer advances the cursor before it reads parkedConsumer, so one of the two always sees the other.
        parkedConsumer = Thread.currentThread();
        try {
            if (ringBuffer.getCursor() == poller.getSequence().get()) {
                LockSupport.parkNanos(this, maxNanos);
            }
        } finally {
            parkedConsumer = null;
        }
    }

    /** Unparks the consumer if it is waiting, e.g. to notice a stop request at once. */
    void wakeConsumer() {
        Thread consumer = parkedConsumer;
        if (consumer != null) {
            LockSupport.unpark(consumer);
        }
    }
}
