package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UserSetTest {
    private final UserSet users = new UserSet();

    @Test
    void holdsExactlyWhatWasAddedOnce() {
        assertThat(users.add("alice")).isTrue();
        assertThat(users.add("alice")).isFalse();
        assertThat(users.contains("alice")).isTrue();
        assertThat(users.contains(new String("alice".toCharArray()))).isTrue(); // equal, not the same object
        assertThat(users.contains("alicf")).isFalse();
        assertThat(users.contains("alic")).isFalse();
        assertThat(users.contains("alicee")).isFalse();
        assertThat(users.size()).isEqualTo(1);
    }

    @Test
    void idsWithTheSameHashAreToldApartByTheirCharacters() {
        assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());
        assertThat("AaBB".hashCode()).isEqualTo("BBAa".hashCode());
        users.add("Aa");
        users.add("AaBB");

        assertThat(users.contains("BB")).isFalse();
        assertThat(users.contains("BBAa")).isFalse();
        assertThat(users.add("BB")).isTrue();
        assertThat(users.contains("Aa")).isTrue();
        assertThat(users.contains("BB")).isTrue();
        assertThat(users.size()).isEqualTo(3);
    }

    @Test
    void keepsEveryIdThroughGrowthWhateverItsCharacters() {
        users.add("");
        users.add("ü-ñ-日本-🙂");
        for (int i = 0; i < 200_000; i++) {
            assertThat(users.add("user-" + i)).isTrue();
        }
        for (int i = 0; i < 200_000; i++) {
            assertThat(users.contains("user-" + i)).as("user-%d", i).isTrue();
        }
        assertThat(users.contains("user-200000")).isFalse();
        assertThat(users.contains("")).isTrue();
        assertThat(users.contains("ü-ñ-日本-🙂")).isTrue();
        assertThat(users.contains("ü-ñ-日本-🙁")).isFalse();
        assertThat(users.size()).isEqualTo(200_002);
    }

    @Test
    void anIdLongerThanALengthCanSayIsRefusedNotCut() {
        String tooLong = "x".repeat(Character.MAX_VALUE + 1);
        assertThatThrownBy(() -> users.add(tooLong)).isInstanceOf(IllegalArgumentException.class);
        assertThat(users.contains(tooLong)).isFalse();
        assertThat(users.add("x".repeat(Character.MAX_VALUE))).isTrue();
        assertThat(users.contains("x".repeat(Character.MAX_VALUE))).isTrue();
    }
}
