package io.tracerboy.storage;

/**
 * What a time-partitioned table keeps: {@code partitions} partitions (or chunks), the oldest starting at
 * {@code oldestMs} ({@code Long.MAX_VALUE} when there is none), {@code bytes} in all, indexes included.
 */
public record PartitionStatus(String table, int partitions, long oldestMs, long bytes) {
}
