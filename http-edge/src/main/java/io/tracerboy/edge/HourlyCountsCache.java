package io.tracerboy.edge;

import io.tracerboy.storage.HourlyCounts;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Answers repeated GETs for the same hour without a database round trip. An entry is served only while no batch has
 * been committed by this process since it was read (so a client that got its {@code 204} in committed mode, or waited
 * out the flush interval, reads its own write) and for at most {@code ttlNanos} (which bounds how far it can lag
 * behind other replicas' commits). Thread-safe; read on IO threads, filled on worker threads.
 */
final class HourlyCountsCache implements Reconfigurable {
    private static final int MAX_ENTRIES = 4_096;

    private record Entry(HourlyCounts counts, long commitGeneration, long readAtNanos) {
    }

    private final ConcurrentHashMap<Long, Entry> entries = new ConcurrentHashMap<>();
    private final LongSupplier commitGeneration;
    private final LongSupplier nanoClock;
    private volatile long ttlNanos;

    HourlyCountsCache(LongSupplier commitGeneration, LongSupplier nanoClock, long ttlNanos) {
        this.commitGeneration = commitGeneration;
        this.nanoClock = nanoClock;
        this.ttlNanos = ttlNanos;
    }

    /** Changes the time-to-live from the next lookup (a runtime setting); 0 turns the cache off. */
    void setTtlNanos(long ttl) {
        ttlNanos = ttl;
        if (ttl == 0) {
            entries.clear();
        }
    }

    @Override
    public Set<Setting<?>> reconfigurableSettings() {
        return Set.of(Setting.GET_CACHE_TTL_MS);
    }

    @Override
    public void reconfigure(Values values) {
        setTtlNanos(TimeUnit.MILLISECONDS.toNanos(values.get(Setting.GET_CACHE_TTL_MS)));
    }

    /** The cached counts of the hour if still current, else null. */
    HourlyCounts get(long hourStartMs) {
        long ttl = ttlNanos;
        if (ttl == 0) {
            return null;
        }
        Entry entry = entries.get(hourStartMs);
        if (entry == null || entry.commitGeneration() != commitGeneration.getAsLong()
                || nanoClock.getAsLong() - entry.readAtNanos() >= ttl) {
            return null;
        }
        return entry.counts();
    }

    /** The generation to pass to {@link #put}: read it before querying the database. */
    long generation() {
        return commitGeneration.getAsLong();
    }

    /** Stores counts read from the database after {@code generationBeforeRead} was taken. */
    void put(long hourStartMs, HourlyCounts counts, long generationBeforeRead, long readStartNanos) {
        if (ttlNanos == 0) {
            return;
        }
        if (entries.size() >= MAX_ENTRIES) {
            entries.clear(); // rare: many distinct hours asked for; the current hour is back after one read
        }
        entries.put(hourStartMs, new Entry(counts, generationBeforeRead, readStartNanos));
    }
}
