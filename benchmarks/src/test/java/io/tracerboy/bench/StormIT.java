package io.tracerboy.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short storm on every build: ~60 s of every fault kind at least once (fixed seeds, so a failure can be replayed with
 * {@code Storm <seconds> <seed>}), three replicas of the real jar, then the exact audit. The 10-minute storm with a
 * random seed is run by hand (README, Reliability).
 */
class StormIT {
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void committedModeUnderEveryFaultLosesNothingAcknowledgedAndCountsNothingTwice(@TempDir Path work)
            throws Exception {
        Storm.Verdict verdict = new Storm(20_261_129L, 60, true, work, System.out).run();
        assertThat(verdict.passed()).as(String.join("\n", verdict.summary())).isTrue();
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void bufferedModeUnderGracefulFaultsLosesNothingAcknowledged(@TempDir Path work) throws Exception {
        Storm.Verdict verdict = new Storm(7L, 30, false, work, System.out).run();
        assertThat(verdict.passed()).as(String.join("\n", verdict.summary())).isTrue();
    }
}
