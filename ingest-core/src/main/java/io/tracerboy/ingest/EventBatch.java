package io.tracerboy.ingest;

import java.util.Arrays;
import java.util.UUID;

/**
 * A batch of events in parallel arrays, filled by the consumer thread and handed to a {@link BatchSink}, which reads
 * it and answers a {@link WriteOutcome}: data flows one way. Reused from flush to flush, so a sink must not keep a
 * reference to it after {@code write} returns.
 */
public final class EventBatch {
    private long[] timestampsMs;
    private String[] userIds;
    private EventKind[] kinds;
    private CommitListener[] listeners;
    private String[] eventIds;
    private RequestKey[] requests;
    private int lastRequestEvents; // how many events of the last event's keyed request the batch holds
    private int size;
    // Volatile: the writer owns it, metrics read it from other threads (the age of the oldest unwritten event).
    private volatile long oldestPublishedNanos = Long.MAX_VALUE;
    private UUID id;

    public EventBatch(int capacityEvents) {
        timestampsMs = new long[capacityEvents];
        userIds = new String[capacityEvents];
        kinds = new EventKind[capacityEvents];
        listeners = new CommitListener[capacityEvents];
        eventIds = new String[capacityEvents];
        requests = new RequestKey[capacityEvents];
    }

    /** Appends one event without an id; the arrays grow when full (a batch size raised at runtime). */
    public void add(long timestampMs, String userId, EventKind kind) {
        add(timestampMs, userId, kind, null, null, 0);
    }

    /** Appends one event with its id (or null). */
    public void add(long timestampMs, String userId, EventKind kind, String eventId) {
        add(timestampMs, userId, kind, eventId, null, 0);
    }

    void add(long timestampMs, String userId, EventKind kind, String eventId, CommitListener listener,
             long publishedNanos) {
        add(timestampMs, userId, kind, eventId, listener, publishedNanos, null);
    }

    /** Appends one event of the keyed request {@code request} (or null). */
    public void add(long timestampMs, String userId, EventKind kind, String eventId, CommitListener listener,
                    long publishedNanos, RequestKey request) {
        if (size == 0 || publishedNanos - oldestPublishedNanos < 0) {
            oldestPublishedNanos = publishedNanos;
        }
        if (size == timestampsMs.length) {
            grow();
        }
        timestampsMs[size] = timestampMs;
        userIds[size] = userId;
        kinds[size] = kind;
        eventIds[size] = eventId;
        listeners[size] = listener;
        lastRequestEvents = request == null ? 0 : size > 0 && requests[size - 1] == request ? lastRequestEvents + 1 : 1;
        requests[size] = request;
        size++;
    }

    private void grow() {
        int capacity = Math.max(16, timestampsMs.length * 2);
        timestampsMs = Arrays.copyOf(timestampsMs, capacity);
        userIds = Arrays.copyOf(userIds, capacity);
        kinds = Arrays.copyOf(kinds, capacity);
        listeners = Arrays.copyOf(listeners, capacity);
        eventIds = Arrays.copyOf(eventIds, capacity);
        requests = Arrays.copyOf(requests, capacity);
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return timestampsMs.length;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public long timestampMs(int index) {
        return timestampsMs[index];
    }

    public String userId(int index) {
        return userIds[index];
    }

    public EventKind kind(int index) {
        return kinds[index];
    }

    /** The id the sender gave the event, or null. */
    public String eventId(int index) {
        return eventIds[index];
    }

    /** The keyed request event {@code index} belongs to, or null. */
    public RequestKey request(int index) {
        return requests[index];
    }

    /** Whether the last event added is inside a keyed request whose other events are still to come. */
    public boolean endsInsideARequest() {
        return size > 0 && requests[size - 1] != null && lastRequestEvents < requests[size - 1].events();
    }

    CommitListener listener(int index) {
        return listeners[index];
    }

    /**
     * Identifies this batch's contents across retries, so a sink can tell a retry of a batch it already committed from
     * a new one; a new id after {@link #clear()} and for every slice.
     */
    public UUID id() {
        if (id == null) {
            id = UUID.randomUUID();
        }
        return id;
    }

    /** When the oldest event of the batch was published into the ring (consumer clock); MAX_VALUE when empty. */
    public long oldestPublishedNanos() {
        return oldestPublishedNanos;
    }

    /** A copy of events {@code [from, to)}, used to isolate a poison event by splitting a failed batch. */
    EventBatch slice(int from, int to) {
        EventBatch part = new EventBatch(to - from);
        for (int i = from; i < to; i++) {
            part.add(timestampsMs[i], userIds[i], kinds[i], eventIds[i], listeners[i], oldestPublishedNanos,
                    requests[i]);
        }
        return part;
    }

    public void clear() {
        Arrays.fill(userIds, 0, size, null);
        Arrays.fill(kinds, 0, size, null);
        Arrays.fill(listeners, 0, size, null);
        Arrays.fill(eventIds, 0, size, null);
        Arrays.fill(requests, 0, size, null);
        lastRequestEvents = 0;
        size = 0;
        oldestPublishedNanos = Long.MAX_VALUE;
        id = null;
    }
}
