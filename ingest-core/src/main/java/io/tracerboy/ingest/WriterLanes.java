package io.tracerboy.ingest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The writer's lanes. With one lane a batch is written on the calling thread, as it always was. With more, a batch is
 * split by a hash of each event's user into one part per lane, and the parts are written at once, each by a
 * {@link BatchWriter} of its own on a sink of its own (its own connection), so the database stores the parts' rows and
 * (hour, user) pairs on as many backends as there are lanes. Users are disjoint between lanes, so the parts never wait
 * on each other's unique-index entries (pairs, event keys); a keyed request goes whole to one lane, since its key is
 * recorded with all its events or none. {@link #write} returns once every part is settled, and only then tells the
 * caller's {@link BatchWriter.Settlement} what became of each, part by part in lane order, on the calling thread: the
 * listeners and the stats hear exactly what one writer would have told them, once per event. Consumer thread only.
 */
public final class WriterLanes {
    private final BatchWriter[] writers;
    private final EventBatch[] parts;
    private final ExecutorService executor;
    private final List<Thread> laneThreads = new CopyOnWriteArrayList<>();

    /** Lanes writing to {@code sinks}, one lane each, as {@link BatchingConsumer} builds them. */
    WriterLanes(List<? extends BatchSink> sinks, RetryBackoff backoff, BatchingConsumer.Sleeper sleeper,
                BooleanSupplier abandonRequested, PipelineStats stats, int partCapacity) {
        if (sinks.isEmpty()) {
            throw new IllegalArgumentException("at least one lane");
        }
        writers = new BatchWriter[sinks.size()];
        parts = new EventBatch[sinks.size()];
        for (int lane = 0; lane < writers.length; lane++) {
            writers[lane] = new BatchWriter(sinks.get(lane), backoff, sleeper, abandonRequested, stats);
            parts[lane] = new EventBatch(Math.max(16, partCapacity / writers.length));
        }
        executor = writers.length == 1 ? null : Executors.newFixedThreadPool(writers.length, task -> {
            Thread thread = new Thread(task, "tracerboy-writer-lane-" + laneThreads.size());
            thread.setDaemon(true);
            laneThreads.add(thread);
            return thread;
        });
    }

    /**
     * Lanes for a benchmark: one per sink, retrying failures at once, settling nowhere ({@link #write(EventBatch)}).
     */
    public static WriterLanes forBenchmark(List<? extends BatchSink> sinks, int partCapacity) {
        return new WriterLanes(sinks, new RetryBackoff(1, 1), delayMs -> { }, () -> false, new PipelineStats(),
                partCapacity);
    }

    /** Writes {@code batch} as the consumer would, telling no listener (a benchmark's operation). */
    public void write(EventBatch batch) {
        write(batch, IGNORED);
    }

    private static final BatchWriter.Settlement IGNORED = new BatchWriter.Settlement() {
        @Override
        public void onCommitted(EventBatch part, WriteOutcome outcome) {
        }

        @Override
        public void onDeadLettered(EventBatch part) {
        }

        @Override
        public void onAbandoned(EventBatch part, boolean inDoubt) {
        }
    };

    /** The lane of event {@code index} of {@code batch} among {@code lanes}: its keyed request's, else its user's. */
    static int laneOf(EventBatch batch, int index, int lanes) {
        RequestKey request = batch.request(index);
        int hash = request != null ? request.key().hashCode() : batch.userId(index).hashCode();
        return Math.floorMod(hash ^ (hash >>> 16), lanes);
    }

    /** Writes {@code batch}, settling every event through {@code settlement}; false when a stop gave part of it up. */
    boolean write(EventBatch batch, BatchWriter.Settlement settlement) {
        if (executor == null) {
            return writers[0].write(batch, settlement);
        }
        for (int i = 0; i < batch.size(); i++) {
            parts[laneOf(batch, i, parts.length)].add(batch.timestampMs(i), batch.userId(i), batch.kind(i),
                    batch.eventId(i), batch.listener(i), batch.oldestPublishedNanos(), batch.request(i));
        }
        List<Future<Recorded>> written = new ArrayList<>(parts.length);
        for (int lane = 0; lane < parts.length; lane++) {
            EventBatch part = parts[lane];
            BatchWriter writer = writers[lane];
            if (!part.isEmpty()) {
                written.add(executor.submit(() -> {
                    Recorded recorded = new Recorded();
                    recorded.written = writer.write(part, recorded);
                    return recorded;
                }));
            }
        }
        boolean all = true;
        for (Future<Recorded> lane : written) {
            Recorded recorded = await(lane);
            recorded.tell(settlement);
            all &= recorded.written;
        }
        for (EventBatch part : parts) {
            part.clear();
        }
        return all;
    }

    /**
     * The lane's result. A stop interrupts the consumer thread only to cut a retry's back-off short: passed on to the
     * lanes, which then see the stop and give their parts up, settled; so this waits for them whatever happens.
     */
    private Recorded await(Future<Recorded> lane) {
        for (;;) {
            try {
                return lane.get();
            } catch (InterruptedException stop) {
                laneThreads.forEach(Thread::interrupt);
            } catch (ExecutionException e) {
                throw new IllegalStateException("a writer lane failed", e.getCause());
            }
        }
    }

    /** Lets the lane threads end; the consumer calls it when it is done. */
    public void close() {
        if (executor != null) {
            executor.shutdown();
        }
    }

    /** What a lane's writer told, kept to be told again on the consumer thread. */
    private static final class Recorded implements BatchWriter.Settlement {
        private final List<Consumer<BatchWriter.Settlement>> told = new ArrayList<>();
        boolean written;

        @Override
        public void onCommitted(EventBatch part, WriteOutcome outcome) {
            told.add(settlement -> settlement.onCommitted(part, outcome));
        }

        @Override
        public void onDeadLettered(EventBatch part) {
            told.add(settlement -> settlement.onDeadLettered(part));
        }

        @Override
        public void onAbandoned(EventBatch part, boolean inDoubt) {
            told.add(settlement -> settlement.onAbandoned(part, inDoubt));
        }

        void tell(BatchWriter.Settlement settlement) {
            told.forEach(call -> call.accept(settlement));
        }
    }
}
