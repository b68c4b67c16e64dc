package io.tracerboy.storage;

import io.tracerboy.ingest.Hours;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The (hour, user) pairs this process knows are committed in {@code hourly_users}, for the hours around now (the
 * previous {@value #PAST_HOURS}, the current and the next), so a batch sends only pairs that may be new (measured: this
 * keeps ~0.58 of raw COPY speed instead of ~0.22 at 100k users/hour). The window follows the clock, not the events, so
 * a few events dated far away cannot push the current hour out. Only an optimisation: the unique index still decides,
 * so forgetting is always safe. Bounded by {@code maxPairs}; crossing the bound forgets everything. Used by the writer
 * thread only.
 */
final class CommittedUsers {
    static final int PAST_HOURS = 2;

    private final long maxPairs;
    private final LongSupplier millisClock;
    private final TreeMap<Long, Set<String>> usersByHour = new TreeMap<>();
    private long pairs;

    CommittedUsers(long maxPairs, LongSupplier millisClock) {
        this.maxPairs = maxPairs;
        this.millisClock = millisClock;
    }

    boolean contains(long hourStartMs, String user) {
        Set<String> users = usersByHour.get(hourStartMs);
        return users != null && users.contains(user);
    }

    /** Records pairs just committed (inserted by us, or found already there) whose hour is in the window. */
    void addAll(Map<Long, ? extends Set<String>> committed) {
        if (maxPairs == 0) {
            return;
        }
        long currentHourMs = Hours.startMs(millisClock.getAsLong());
        long firstHourMs = currentHourMs - PAST_HOURS * Hours.HOUR_MS;
        long lastHourMs = currentHourMs + Hours.HOUR_MS;
        while (!usersByHour.isEmpty() && usersByHour.firstKey() < firstHourMs) {
            pairs -= usersByHour.pollFirstEntry().getValue().size();
        }
        for (Map.Entry<Long, ? extends Set<String>> entry : committed.entrySet()) {
            long hour = entry.getKey();
            if (hour < firstHourMs || hour > lastHourMs) {
                continue; // a late or far-future event: not worth remembering
            }
            Set<String> users = usersByHour.computeIfAbsent(hour, h -> new HashSet<>());
            int before = users.size();
            users.addAll(entry.getValue());
            pairs += users.size() - before;
        }
        if (pairs > maxPairs) {
            usersByHour.clear();
            pairs = 0;
        }
    }

    long pairs() {
        return pairs;
    }
}
