package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.ingest.Hours;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommittedUsersTest {
    private static final long CURRENT_HOUR_START_MS = 1_764_363_600_000L; // 2025-11-28T21:00:00Z
    private static final long LAST_HOUR_START_MS = Hours.startMs(253_402_300_799_999L);

    private long nowMs = CURRENT_HOUR_START_MS + 1_000;
    private final CommittedUsers users = new CommittedUsers(1_000, () -> nowMs);

    @Test
    void eventsDatedFarAwayDoNotPushTheCurrentHourOut() {
        users.addAll(Map.of(CURRENT_HOUR_START_MS, Set.of("alice")));
        users.addAll(Map.of(LAST_HOUR_START_MS, Set.of("x"), LAST_HOUR_START_MS - Hours.HOUR_MS, Set.of("y"),
                LAST_HOUR_START_MS - 2 * Hours.HOUR_MS, Set.of("z")));

        assertThat(users.contains(CURRENT_HOUR_START_MS, "alice")).isTrue();
        assertThat(users.contains(LAST_HOUR_START_MS, "x")).isFalse();
        assertThat(users.pairs()).isEqualTo(1);
    }

    @Test
    void anHourLookedUpBeforeItsFirstUsersSeesThemOnceAdded() {
        assertThat(users.contains(CURRENT_HOUR_START_MS, "alice")).isFalse(); // the hour is looked up: none yet
        users.addAll(Map.of(CURRENT_HOUR_START_MS, Set.of("alice")));
        assertThat(users.contains(CURRENT_HOUR_START_MS, "alice")).isTrue();

        nowMs += 3 * Hours.HOUR_MS; // the hour falls out of the window at the next addAll
        users.addAll(Map.of(CURRENT_HOUR_START_MS + 3 * Hours.HOUR_MS, Set.of("bob")));
        assertThat(users.contains(CURRENT_HOUR_START_MS, "alice")).isFalse();
    }

    @Test
    void remembersThePreviousTwoHoursTheCurrentAndTheNext() {
        for (long hour = -3; hour <= 2; hour++) {
            users.addAll(Map.of(CURRENT_HOUR_START_MS + hour * Hours.HOUR_MS, Set.of("u")));
        }
        assertThat(users.contains(CURRENT_HOUR_START_MS - 3 * Hours.HOUR_MS, "u")).isFalse();
        assertThat(users.contains(CURRENT_HOUR_START_MS - 2 * Hours.HOUR_MS, "u")).isTrue();
        assertThat(users.contains(CURRENT_HOUR_START_MS, "u")).isTrue();
        assertThat(users.contains(CURRENT_HOUR_START_MS + Hours.HOUR_MS, "u")).isTrue();
        assertThat(users.contains(CURRENT_HOUR_START_MS + 2 * Hours.HOUR_MS, "u")).isFalse();
        assertThat(users.pairs()).isEqualTo(4);
    }

    @Test
    void forgetsHoursThatFallOutOfTheWindowAsTheClockMoves() {
        users.addAll(Map.of(CURRENT_HOUR_START_MS, Set.of("a", "b")));
        nowMs += 3 * Hours.HOUR_MS;
        users.addAll(Map.of(CURRENT_HOUR_START_MS + 3 * Hours.HOUR_MS, Set.of("c")));

        assertThat(users.contains(CURRENT_HOUR_START_MS, "a")).isFalse();
        assertThat(users.pairs()).isEqualTo(1);
    }

    @Test
    void crossingTheBoundForgetsEverythingAndZeroTurnsItOff() {
        CommittedUsers small = new CommittedUsers(2, () -> nowMs);
        small.addAll(Map.of(CURRENT_HOUR_START_MS, Set.of("a", "b", "c")));
        assertThat(small.pairs()).isZero();
        assertThat(small.contains(CURRENT_HOUR_START_MS, "a")).isFalse();

        CommittedUsers off = new CommittedUsers(0, () -> nowMs);
        off.addAll(Map.of(CURRENT_HOUR_START_MS, Set.of("a")));
        assertThat(off.contains(CURRENT_HOUR_START_MS, "a")).isFalse();
    }
}
