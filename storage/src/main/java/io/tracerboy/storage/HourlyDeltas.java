package io.tracerboy.storage;

import io.tracerboy.ingest.EventBatch;
import io.tracerboy.ingest.EventKind;
import io.tracerboy.ingest.Hours;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * A batch grouped by UTC hour (keys are hour starts in epoch ms): click and impression counts, and the users not known
 * to be committed already for that hour. Sorted by hour, so the aggregates are locked in the same order by every
 * writer. Built on the writer thread while the batch is COPYed.
 */
final class HourlyDeltas {
    final TreeMap<Long, long[]> countsByHour = new TreeMap<>();
    final TreeMap<Long, Set<String>> usersByHour = new TreeMap<>();
    int pairCount;

    private long lastHourMs = Long.MIN_VALUE;
    private long[] counts;
    private Set<String> users;

    /** Counts event {@code i} of {@code batch}; its user is a candidate unless {@code committed} knows the pair. */
    void add(EventBatch batch, int i, CommittedUsers committed) {
        long hourMs = Hours.startMs(batch.timestampMs(i));
        if (hourMs != lastHourMs) {
            lastHourMs = hourMs;
            counts = countsByHour.computeIfAbsent(hourMs, h -> new long[2]);
            users = usersByHour.computeIfAbsent(hourMs, h -> new HashSet<>());
        }
        counts[batch.kind(i) == EventKind.CLICK ? 0 : 1]++;
        String user = batch.userId(i);
        if (!committed.contains(hourMs, user) && users.add(user)) {
            pairCount++;
        }
    }
}
