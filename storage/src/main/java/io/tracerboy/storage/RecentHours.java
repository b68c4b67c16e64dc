package io.tracerboy.storage;

import io.tracerboy.ingest.Hours;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;

/**
 * What this process knows of recent hours' aggregates, so that {@link HourlySeries} answers from memory: each hour's
 * {@code hourly_stats} row and the union of its writers' sketches, learnt from two sources — this process's writers,
 * right after each COMMIT ({@link #committed}: so its own writes are visible at once), and database reads
 * ({@link #readStats}, {@link #readSketches}: which bring other replicas' writes). Every figure only ever grows (counts
 * are added to, sketches united), so each source is merged by taking the larger count and the union of sketches, in
 * any order, and what is known of an hour is never more than the truth nor less than anything seen. An hour is
 * <em>fresh</em> while its last database read started at most the time-to-live ago: that bounds how far an answer lags
 * behind other replicas, as {@code GET_CACHE_TTL_MS} does for {@code GET /analytics}. Its sketch is <em>complete</em>
 * when it is known to hold every user its count counts; otherwise it is read again before an estimate uses it.
 * Thread-safe: writers publish, I/O and worker threads read. {@code GET /analytics} answers one hour from it too.
 */
public final class RecentHours {
    /** Hours held; beyond it the oldest hours are forgotten (and read again if asked for). */
    public static final int MAX_HOURS = 2_048;

    /**
     * One hour as known: its counts, the union of its writers' sketches ({@code null}: none known), the count of users
     * that union is known to hold every one of ({@code sketchUsers}; -1 when not known for any), and when its last
     * database read started ({@code read} false: never read, only published).
     */
    record Hour(HourlyCounts counts, HllSketch sketch, long sketchUsers, boolean read, long readAtNanos) {
        static final Hour UNKNOWN = new Hour(HourlyCounts.ZERO, null, 0, false, 0);

        boolean sketchComplete() {
            return sketchUsers == counts.uniqueUsers();
        }

        /** It has users, and its sketch is not known to hold them all: an estimate must read its sketch rows first. */
        boolean sketchToRead() {
            return counts.uniqueUsers() > 0 && !sketchComplete();
        }

        boolean freshAt(long nowNanos, long ttlNanos) {
            return read && nowNanos - readAtNanos <= ttlNanos;
        }
    }

    private final ConcurrentHashMap<Long, Hour> hours = new ConcurrentHashMap<>();
    /** Hours a COMMIT of this process touched without being told here ({@link #unread}), and when that was learnt. */
    private final ConcurrentHashMap<Long, Long> unreadAtNanos = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private volatile long ttlNanos;
    /** When an hour was last forgotten past {@link #MAX_HOURS}: reads started before make nothing fresh. */
    private volatile long lastForgotNanos;
    private volatile boolean forgotAny;

    /** {@code ttlNanos}: how long a database read of an hour is trusted (0: every answer reads first). */
    public RecentHours(LongSupplier nanoClock, long ttlNanos) {
        this.nanoClock = nanoClock;
        this.ttlNanos = ttlNanos;
    }

    /** Changes the time-to-live from the next lookup (a runtime setting). */
    public void setTtlNanos(long ttl) {
        ttlNanos = ttl;
    }

    long ttlNanos() {
        return ttlNanos;
    }

    /** This process's nanosecond clock, by which freshness is judged: taken before a read, for {@link #readStats}. */
    public long nanoTime() {
        return nanoClock.getAsLong();
    }

    /**
     * The hour's counts if it is fresh now (read from the database at most the time-to-live ago, with every commit of
     * this process since merged in), else null: what {@code GET /analytics} answers without a read. Never with a
     * time-to-live of 0.
     */
    public HourlyCounts freshCounts(long hourMs) {
        long ttl = ttlNanos;
        Hour hour = hours.get(hourMs);
        return ttl > 0 && hour != null && hour.freshAt(nanoClock.getAsLong(), ttl) ? hour.counts() : null;
    }

    /**
     * A writer of this process committed: the hour's row as its upsert left it ({@code after}, locked until the
     * COMMIT, so the committed value), of which {@code addedUsers} were this commit's, and the writer's own sketch of
     * the hour after it ({@code null} if it keeps none; it holds this commit's users of the hour). If what was known
     * before was complete and nothing but this commit came in between ({@code after} minus this commit's users), the
     * union stays complete.
     */
    void committed(long hourMs, HourlyCounts after, long addedUsers, HllSketch writerSketch) {
        hours.compute(hourMs, (h, old) -> {
            Hour known = old != null ? old : Hour.UNKNOWN;
            boolean complete = known.sketchComplete() && known.sketchUsers() == after.uniqueUsers() - addedUsers
                    && (addedUsers == 0 || writerSketch != null);
            HllSketch sketch = union(known.sketch(), writerSketch);
            long sketchUsers = complete ? after.uniqueUsers() : known.sketchUsers();
            return new Hour(max(known.counts(), after), sketch, sketchUsers, known.read(), known.readAtNanos());
        });
        forgetOldest();
    }

    /** A database read that started at {@code startNanos} found the hour's row ({@link HourlyCounts#ZERO}: none). */
    public void readStats(long hourMs, HourlyCounts counts, long startNanos) {
        hours.compute(hourMs, (h, old) -> {
            Hour known = old != null ? old : Hour.UNKNOWN;
            // Looked at inside the hour's compute, which unread's runs after or before, never beside.
            Long unreadAt = unreadAtNanos.get(hourMs);
            boolean forgotSince = forgotAny && startNanos - lastForgotNanos <= 0;
            if (forgotSince || unreadAt != null && startNanos - unreadAt <= 0) {
                // Started before an unread COMMIT was learnt of, or before an hour was forgotten (with the commits
                // merged into it), it may miss one: merged, but it makes nothing fresh.
                return new Hour(max(known.counts(), counts), known.sketch(), known.sketchUsers(), known.read(),
                        known.readAtNanos());
            }
            if (unreadAt != null) {
                unreadAtNanos.remove(hourMs, unreadAt);
            }
            long readAt = known.read() && known.readAtNanos() - startNanos > 0 ? known.readAtNanos() : startNanos;
            return new Hour(max(known.counts(), counts), known.sketch(), known.sketchUsers(), true, readAt);
        });
        forgetOldest();
    }

    /**
     * A COMMIT of this process whose reply was lost touched the hour and was never told here: the hour is no longer
     * fresh, so the next answer reads it first (a committed-mode {@code 204} for it comes only after this call).
     */
    void unread(long hourMs) {
        // First the mark, then the hour: a read's compute of the hour sees the mark or is undone by this one.
        unreadAtNanos.put(hourMs, nanoClock.getAsLong());
        hours.computeIfPresent(hourMs, (h, known) -> known.read()
                ? new Hour(known.counts(), known.sketch(), known.sketchUsers(), false, known.readAtNanos()) : known);
    }

    /**
     * A database read found, in one snapshot, the hour's count of users and the union of its sketch rows
     * ({@code null}: none): that union holds every one of those users.
     */
    void readSketches(long hourMs, long users, HllSketch sketches) {
        hours.compute(hourMs, (h, old) -> {
            Hour known = old != null ? old : Hour.UNKNOWN;
            HourlyCounts counts = known.counts().uniqueUsers() >= users ? known.counts()
                    : new HourlyCounts(users, known.counts().clicks(), known.counts().impressions());
            return new Hour(counts, union(known.sketch(), sketches), Math.max(known.sketchUsers(), users),
                    known.read(), known.readAtNanos());
        });
    }

    /** The hours from {@code fromMs} to {@code toMs} (hour starts) if each is fresh at {@code nowNanos}, else null. */
    TreeMap<Long, Hour> fresh(long fromMs, long toMs, long nowNanos) {
        long ttl = ttlNanos;
        TreeMap<Long, Hour> range = new TreeMap<>();
        for (long hourMs = fromMs; hourMs < toMs; hourMs += Hours.HOUR_MS) {
            Hour hour = hours.get(hourMs);
            if (hour == null || !hour.freshAt(nowNanos, ttl)) {
                return null;
            }
            range.put(hourMs, hour);
        }
        return range;
    }

    /** The hour as known now, {@link Hour#UNKNOWN} if not at all. */
    Hour get(long hourMs) {
        return hours.getOrDefault(hourMs, Hour.UNKNOWN);
    }

    int size() {
        return hours.size();
    }

    private void forgetOldest() {
        while (hours.size() > MAX_HOURS) {
            // First the mark, then the hour, as in unread: what was known of it (commits merged in) is gone.
            lastForgotNanos = nanoClock.getAsLong();
            forgotAny = true;
            hours.keySet().stream().min(Long::compare).ifPresent(hours::remove);
        }
    }

    private static HourlyCounts max(HourlyCounts a, HourlyCounts b) {
        return new HourlyCounts(Math.max(a.uniqueUsers(), b.uniqueUsers()), Math.max(a.clicks(), b.clicks()),
                Math.max(a.impressions(), b.impressions()));
    }

    private static HllSketch union(HllSketch a, HllSketch b) {
        if (a == null || b == null) {
            return a != null ? a : b;
        }
        Union union = new Union(HourlySketches.LG_K);
        union.update(a);
        union.update(b);
        return union.getResult(TgtHllType.HLL_8);
    }
}
