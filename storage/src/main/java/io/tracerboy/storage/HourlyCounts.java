package io.tracerboy.storage;

/** The answer for one UTC hour, as GET /analytics prints it. */
public record HourlyCounts(long uniqueUsers, long clicks, long impressions) {
    public static final HourlyCounts ZERO = new HourlyCounts(0, 0, 0);

    /** The three-line {@code text/plain} body. */
    public String toBody() {
        return "unique_users," + uniqueUsers + "\nclicks," + clicks + "\nimpressions," + impressions + "\n";
    }
}
