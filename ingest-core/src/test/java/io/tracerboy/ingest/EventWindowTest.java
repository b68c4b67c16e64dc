package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EventWindowTest {
    private static final long NOW_MS = 1_796_239_551_000L; // 2026-12-02T19:25:51Z
    private static final EventWindow WEEK = new EventWindow(168 * Hours.HOUR_MS, "EVENT_RETENTION_HOURS");

    private static TrackedEvent post(String timestamp, EventWindow window) {
        return AnalyticsQuery.parseEvent("timestamp=" + timestamp + "&user=u&event=click", NOW_MS, window);
    }

    @Test
    void anEventExactlyAsOldAsTheRetentionIsTakenAndOneMillisecondOlderIsRefusedNamingTheSetting() {
        long oldest = NOW_MS - 168 * Hours.HOUR_MS;
        assertThat(post(Long.toString(oldest), WEEK).timestampMs()).isEqualTo(oldest);
        assertThatThrownBy(() -> post(Long.toString(oldest - 1), WEEK)).isInstanceOf(InvalidRequestException.class)
                .hasMessage("timestamp: expected at most 168 hours old (EVENT_RETENTION_HOURS), found 1795634750999"
                        + " (2026-11-25T19:25:50.999Z, 168 hours old)");
    }

    @Test
    void anEventMoreThanADayAheadOfTheServersClockIsRefused() {
        long latest = NOW_MS + EventWindow.AHEAD_MS;
        assertThat(post(Long.toString(latest), WEEK).timestampMs()).isEqualTo(latest);
        assertThatThrownBy(() -> post(Long.toString(latest + 1), WEEK))
                .hasMessage("timestamp: expected at most 24 hours ahead of the server's clock, found 1796325951001"
                        + " (2026-12-03T19:25:51.001Z, 24 hours ahead)");
    }

    @Test
    void anEventWithoutATimestampIsNowAndAnyWindowTakesEveryTimestampTheFormatAllows() {
        assertThat(AnalyticsQuery.parseEvent("user=u&event=click", NOW_MS, WEEK).timestampMs()).isEqualTo(NOW_MS);
        assertThat(post("100000000000", EventWindow.ANY).timestampMs()).isEqualTo(100_000_000_000L);
        assertThat(post("253402300799999", EventWindow.ANY).timestampMs()).isEqualTo(253_402_300_799_999L);
    }

    @Test
    void aBatchNamesTheLineOfTheEventOutsideTheWindow() {
        BatchParser parser = new BatchParser(10, 1_024, WEEK);
        byte[] body = ("{\"timestamp\":" + NOW_MS + ",\"user\":\"a\",\"event\":\"click\"}\n"
                + "{\"timestamp\":1620000000000,\"user\":\"b\",\"event\":\"click\"}").getBytes(
                java.nio.charset.StandardCharsets.UTF_8);
        BatchParser.Result result = parser.parse(body, body.length, BatchParser.Format.NDJSON, NOW_MS);
        assertThat(result.valid()).isFalse();
        assertThat(result.errors()).extracting(BatchParser.EventError::position).containsExactly(2);
        assertThat(result.errors().get(0).error()).startsWith("timestamp: expected at most 168 hours old");
    }
}
