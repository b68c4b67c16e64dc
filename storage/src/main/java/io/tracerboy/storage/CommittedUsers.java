package io.tracerboy.storage;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The (hour, user) pairs this process knows are committed in {@code hourly_users}, for the most recent hours, so a batch
 * sends only pairs that may be new (measured: this keeps ~0.58 of raw COPY speed instead of ~0.22 at 100k users/hour).
 * Only an optimisation: the unique index still decides, so forgetting is always safe. Bounded by {@code maxPairs};
 * crossing the bound forgets everything. Used by the writer thread only.
 */
final class CommittedUsers {
    private static final int MAX_HOURS = 3;

    private final long maxPairs;
    private final TreeMap<Long, Set<String>> usersByHour = new TreeMap<>();
    private long pairs;

    CommittedUsers(long maxPairs) {
        this.maxPairs = maxPairs;
    }

    boolean contains(long hourStartMs, String user) {
        Set<String> users = usersByHour.get(hourStartMs);
        return users != null && users.contains(user);
    }

    /** Records pairs just committed (inserted by us, or found already there). */
    void addAll(Map<Long, ? extends Set<String>> committed) {
        if (maxPairs == 0) {
            return;
        }
        for (Map.Entry<Long, ? extends Set<String>> entry : committed.entrySet()) {
            long hour = entry.getKey();
            Set<String> users = usersByHour.get(hour);
            if (users == null) {
                if (usersByHour.size() >= MAX_HOURS && hour < usersByHour.firstKey()) {
                    continue; // a late event for an old hour: not worth evicting a recent one
                }
                users = new HashSet<>();
                usersByHour.put(hour, users);
                while (usersByHour.size() > MAX_HOURS) {
                    pairs -= usersByHour.pollFirstEntry().getValue().size();
                }
            }
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
