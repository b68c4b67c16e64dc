package io.tracerboy.ingest;

/**
 * Capped exponential backoff between retries of a failed batch: {@code min(maxDelayMs, minDelayMs * 2^attempt)}, so
 * with the defaults (100 ms, 5 s) the waits are 0.1, 0.2, 0.4 … 3.2, 5, 5 … seconds. Retries go on until the write
 * succeeds or shutdown gives up.
 */
public record RetryBackoff(long minDelayMs, long maxDelayMs) {
    public RetryBackoff {
        if (minDelayMs < 1 || maxDelayMs < minDelayMs || maxDelayMs > 3_600_000) {
            throw new IllegalArgumentException("expected 1 <= minDelayMs <= maxDelayMs <= 3600000, found "
                    + minDelayMs + ", "
                    + maxDelayMs);
        }
    }

    /** The wait before retry number {@code attempt} (0 for the first retry). */
    public long delayMs(int attempt) {
        long delay = minDelayMs;
        for (int i = 0; i < attempt && delay < maxDelayMs; i++) {
            delay *= 2;
        }
        return Math.min(delay, maxDelayMs);
    }
}
