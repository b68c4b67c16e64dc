package io.tracerboy.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The storm's fault schedule: a short run still plans one fault of every kind, and a too short one is refused. */
class StormScheduleTest {
    @Test
    void aTwentySecondRunPlansEveryKindFirstInSeededOrderAndSpreadOverTheRun() {
        for (boolean committed : new boolean[] {true, false}) {
            List<Storm.Fault> kinds = Storm.kinds(committed);
            for (long seed = 0; seed < 2_000; seed++) {
                List<Storm.PlannedFault> plan = Storm.schedule(seed, 20, kinds);
                assertThat(plan).as("seed %d", seed).hasSizeGreaterThanOrEqualTo(kinds.size());
                List<Storm.PlannedFault> first = plan.subList(0, kinds.size());
                assertThat(first).extracting(Storm.PlannedFault::fault).as("seed %d", seed)
                        .containsExactlyInAnyOrderElementsOf(kinds);
                assertThat(first).allMatch(Storm.PlannedFault::required);
                assertThat(plan.subList(kinds.size(), plan.size())).noneMatch(Storm.PlannedFault::required);
                assertThat(plan).extracting(Storm.PlannedFault::atMs).isSorted()
                        .allMatch(atMs -> atMs >= 2_000 && atMs < 15_000);
            }
        }
    }

    @Test
    void theOrderOfTheFirstFaultsFollowsTheSeed() {
        List<Storm.Fault> kinds = Storm.kinds(true);
        EnumSet<Storm.Fault> firstKinds = EnumSet.noneOf(Storm.Fault.class);
        for (long seed = 0; seed < 50; seed++) {
            firstKinds.add(Storm.schedule(seed, 20, kinds).get(0).fault());
            assertThat(Storm.schedule(seed, 20, kinds)).isEqualTo(Storm.schedule(seed, 20, kinds));
        }
        assertThat(firstKinds).hasSizeGreaterThan(1);
    }

    @Test
    void everyRunFromTheMinimumOnPlansEveryKind() {
        for (boolean committed : new boolean[] {true, false}) {
            List<Storm.Fault> kinds = Storm.kinds(committed);
            int minimum = Storm.minimumSeconds(kinds.size());
            assertThat(minimum).isEqualTo(committed ? 20 : 19);
            for (int seconds = minimum; seconds <= 120; seconds++) {
                for (long seed = 0; seed < 200; seed++) {
                    assertThat(Storm.schedule(seed, seconds, kinds)).extracting(Storm.PlannedFault::fault)
                            .as("%d s, seed %d", seconds, seed).containsAll(kinds);
                }
            }
        }
    }

    @Test
    void aRunTooShortForEveryKindIsRefusedWithTheMinimum(@TempDir Path work) {
        assertThatThrownBy(() -> new Storm(1, 18, true, work, System.out))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a committed storm injects 7 fault kinds and needs at least 20 s, not 18");
        assertThatThrownBy(() -> new Storm(1, 10, false, work, System.out))
                .hasMessage("a buffered storm injects 6 fault kinds and needs at least 19 s, not 10");
    }
}
