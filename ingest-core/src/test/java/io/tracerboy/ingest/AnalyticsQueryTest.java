package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AnalyticsQueryTest {
    private static final long NOW_MS = 1_764_363_600_000L; // 2025-11-28T21:00:00Z
    private static final String A257 = "a".repeat(257);

    static Stream<Arguments> acceptedPosts() {
        return Stream.of(
                arguments("timestamp=1700000000000&user=u1&event=click", 1_700_000_000_000L, "u1", EventKind.CLICK),
                arguments("user=u1&event=impression", NOW_MS, "u1", EventKind.IMPRESSION),
                arguments("event=click&user=u1&timestamp=100000000000", 100_000_000_000L, "u1", EventKind.CLICK),
                arguments("timestamp=253402300799999&user=u&event=click", 253_402_300_799_999L, "u", EventKind.CLICK),
                // Length is not magnitude: leading zeros of a valid value change nothing, however many.
                arguments("timestamp=001764363600000&user=u&event=click", 1_764_363_600_000L, "u", EventKind.CLICK),
                arguments("timestamp=0001764363600000&user=u&event=click", 1_764_363_600_000L, "u", EventKind.CLICK),
                arguments("timestamp=000000000253402300799999&user=u&event=click", 253_402_300_799_999L, "u",
                        EventKind.CLICK),
                arguments("user=a+b&event=click", NOW_MS, "a b", EventKind.CLICK),
                arguments("user=a%20b&event=click", NOW_MS, "a b", EventKind.CLICK),
                arguments("user=a%09b&event=click", NOW_MS, "a\tb", EventKind.CLICK),
                arguments("user=a%0Ab&event=click", NOW_MS, "a\nb", EventKind.CLICK),
                arguments("user=%5CN&event=click", NOW_MS, "\\N", EventKind.CLICK),
                arguments("user=a%5cb&event=click", NOW_MS, "a\\b", EventKind.CLICK),
                arguments("user=%22q%22%2C%27&event=click", NOW_MS, "\"q\",'", EventKind.CLICK),
                arguments("user=%C3%A9%F0%9F%98%80&event=click", NOW_MS, "é😀", EventKind.CLICK),
                // raw (unescaped) UTF-8 bytes, as Undertow hands them over: one ISO-8859-1 char per byte
                arguments("user=\u00c3\u00a9&event=click", NOW_MS, "é", EventKind.CLICK),
                arguments("user=" + "a".repeat(256) + "&event=click", NOW_MS, "a".repeat(256), EventKind.CLICK),
                arguments("user=" + "%C3%A9".repeat(128) + "&event=click", NOW_MS, "é".repeat(128), EventKind.CLICK),
                arguments("user=u&event=click&utm_source=x&_=1", NOW_MS, "u", EventKind.CLICK),
                arguments("us%65r=x&user=u&event=click", NOW_MS, "u", EventKind.CLICK));
    }

    @ParameterizedTest
    @MethodSource("acceptedPosts")
    void acceptsValidEvents(String query, long timestampMs, String user, EventKind kind) {
        assertThat(AnalyticsQuery.parseEvent(query, NOW_MS, EventWindow.ANY))
                .isEqualTo(new TrackedEvent(timestampMs, user, kind));
    }

    static Stream<Arguments> refusedPosts() {
        return Stream.of(
                arguments(null, "user: expected a user id of 1 to 256 bytes, found nothing"),
                arguments("event=click", "user: expected a user id of 1 to 256 bytes, found nothing"),
                arguments("user=&event=click", "user: expected a user id of 1 to 256 bytes, found ''"),
                arguments("user&event=click", "user: expected a user id of 1 to 256 bytes, found ''"),
                arguments("user=u", "event: expected click or impression, found nothing"),
                arguments("user=u&event=foo", "event: expected click or impression, found 'foo'"),
                arguments("user=u&event=Click", "event: expected click or impression, found 'Click'"),
                arguments("user=u&event=", "event: expected click or impression, found ''"),
                arguments("timestamp=abc&user=u&event=click",
                        "timestamp: expected a whole, non-negative number of milliseconds since the epoch, "
                                + "found 'abc'"),
                arguments("timestamp=-5&user=u&event=click",
                        "timestamp: expected a whole, non-negative number of milliseconds since the epoch, found '-5'"),
                arguments("timestamp=1700000000000.5&user=u&event=click",
                        "timestamp: expected a whole, non-negative number of milliseconds since the epoch, "
                                + "found '1700000000000.5'"),
                arguments("timestamp=&user=u&event=click",
                        "timestamp: expected a whole, non-negative number of milliseconds since the epoch, found ''"),
                arguments("timestamp=1e12&user=u&event=click",
                        "timestamp: expected a whole, non-negative number of milliseconds since the epoch, "
                                + "found '1e12'"),
                arguments("timestamp=99999999999999999999&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch up to 253402300799999 "
                                + "(9999-12-31T23:59:59.999Z), found '99999999999999999999'"),
                arguments("timestamp=253402300800000&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch up to 253402300799999 "
                                + "(9999-12-31T23:59:59.999Z), found '253402300800000'"),
                arguments("timestamp=1662981405&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch, found '1662981405', which looks like "
                                + "seconds (2022-09-12T11:16:45Z); multiply it by 1000"),
                // As seconds this is the year 5138: no hint to multiply by 1000, which would store such a date.
                arguments("timestamp=99999999999&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch from 100000000000 (1973-03-03T09:46:40Z), "
                                + "found '99999999999'"),
                arguments("timestamp=4102444800&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch, found '4102444800', which looks like "
                                + "seconds (2100-01-01T00:00:00Z); multiply it by 1000"),
                arguments("timestamp=4102444801&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch from 100000000000 (1973-03-03T09:46:40Z), "
                                + "found '4102444801'"),
                arguments("timestamp=0000253402300800000&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch up to 253402300799999 "
                                + "(9999-12-31T23:59:59.999Z), found '0000253402300800000'"),
                arguments("timestamp=5&user=u&event=click",
                        "timestamp: expected milliseconds since the epoch from 100000000000 (1973-03-03T09:46:40Z), "
                                + "found '5'"),
                arguments("user=a%zz&event=click",
                        "user: expected valid percent-encoding (%XX with two hex digits), found '%zz' in 'a%zz'"),
                arguments("user=a%2&event=click",
                        "user: expected valid percent-encoding (%XX with two hex digits), found '%2' in 'a%2'"),
                arguments("user=u&event=cl%ick",
                        "event: expected valid percent-encoding (%XX with two hex digits), found '%ic' in 'cl%ick'"),
                arguments("user=%FF%FE&event=click",
                        "user: expected UTF-8 text, found an invalid byte sequence in '%FF%FE'"),
                arguments("user=%C0%AF&event=click",
                        "user: expected UTF-8 text, found an invalid byte sequence in '%C0%AF'"),
                arguments("user=%ED%A0%80&event=click",
                        "user: expected UTF-8 text, found an invalid byte sequence in '%ED%A0%80'"),
                arguments("user=\u00c3\u00a9\u00ff&event=click",
                        "user: expected UTF-8 text, found an invalid byte sequence in '%C3%A9%FF'"),
                arguments("user=a%00b&event=click", "user: expected no NUL character (%00), found 'a\\0b'"),
                arguments("user=" + A257 + "&event=click",
                        "user: expected a user id of 1 to 256 bytes, found 257 bytes: '" + "a".repeat(64) + "…'"),
                arguments("user=" + "%C3%A9".repeat(129) + "&event=click",
                        "user: expected a user id of 1 to 256 bytes, found 258 bytes: '" + "é".repeat(64) + "…'"),
                arguments("user=a&user=b&event=click", "user: expected one value, found the parameter repeated"),
                arguments("user=a%0D%0Ab&event=foo%0Abar", "event: expected click or impression, found 'foo\\nbar'"));
    }

    @ParameterizedTest
    @MethodSource("refusedPosts")
    void refusesInvalidEventsWithAOneLineReason(String query, String message) {
        assertThatThrownBy(() -> AnalyticsQuery.parseEvent(query, NOW_MS, EventWindow.ANY))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage(message)
                .hasMessageNotContaining("\n");
    }

    @Test
    void getAnswersTheStartOfTheUtcHourHoldingTheInstant() {
        assertThat(AnalyticsQuery.parseHourStartMs("timestamp=1700000000000", NOW_MS)).isEqualTo(1_699_999_200_000L);
        assertThat(AnalyticsQuery.parseHourStartMs("timestamp=1699999200000", NOW_MS)).isEqualTo(1_699_999_200_000L);
        assertThat(AnalyticsQuery.parseHourStartMs("timestamp=1699999199999", NOW_MS)).isEqualTo(1_699_995_600_000L);
    }

    @Test
    void getWithoutTimestampAsksForTheCurrentHour() {
        assertThat(AnalyticsQuery.parseHourStartMs(null, NOW_MS + 1234)).isEqualTo(NOW_MS);
        assertThat(AnalyticsQuery.parseHourStartMs("user=x", NOW_MS + 3_599_999)).isEqualTo(NOW_MS);
    }

    @Test
    void getRefusesATimestampInSeconds() {
        assertThatThrownBy(() -> AnalyticsQuery.parseHourStartMs("timestamp=1662981405", NOW_MS))
                .hasMessageStartingWith("timestamp: expected milliseconds since the epoch, found '1662981405', which "
                        + "looks like seconds");
    }
}
