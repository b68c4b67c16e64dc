package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RetryBackoffTest {
    @Test
    void doublesFromTheMinimumUpToTheCap() {
        RetryBackoff backoff = new RetryBackoff(100, 5_000);
        assertThat(new long[] {backoff.delayMs(0), backoff.delayMs(1), backoff.delayMs(5), backoff.delayMs(6),
                backoff.delayMs(1_000_000)}).containsExactly(100, 200, 3_200, 5_000, 5_000);
    }

    @Test
    void refusesBoundsThatAreOutOfOrder() {
        assertThatThrownBy(() -> new RetryBackoff(10, 5)).isInstanceOf(IllegalArgumentException.class);
    }
}
