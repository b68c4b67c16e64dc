package io.tracerboy.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.ingest.BatchParser.Format;
import io.tracerboy.ingest.BatchParser.EventError;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BatchParserTest {
    private static final long NOW_MS = 1_764_363_600_000L; // 2025-11-28T21:00:00Z
    private final BatchParser parser = new BatchParser(10, 512, EventWindow.ANY);

    private BatchParser.Result ndjson(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return parser.parse(bytes, bytes.length, Format.NDJSON, NOW_MS);
    }

    @Test
    void readsOneEventPerLineWithCrlfBlankLinesAndUnknownFields() {
        BatchParser.Result result = ndjson("{\"timestamp\":1764363600001,\"user\":\"alice\",\"event\":\"click\","
                + "\"id\":\"e-1\"}\r\n\r\n  \n{\"user\":\"bob\",\"event\":\"impression\",\"extra\":{\"a\":[1,2]},"
                + "\"page\":\"/x\"}\n");
        assertThat(result.valid()).isTrue();
        assertThat(result.events()).containsExactly(
                new TrackedEvent(1_764_363_600_001L, "alice", EventKind.CLICK, "e-1"),
                new TrackedEvent(NOW_MS, "bob", EventKind.IMPRESSION, null));
    }

    @Test
    void decodesJsonEscapesExactlyAndKeepsUnicode() {
        BatchParser.Result result = ndjson("{\"timestamp\":\"1764363600000\",\"user\":\"a\\tb\\\\N\\u00e9\\ud83d\\ude00"
                + "\\\"q\\\"\",\"event\":\"click\"}\n{\"timestamp\":1764363600000,\"user\":42,\"event\":\"click\","
                + "\"id\":7}");
        assertThat(result.errors()).isEmpty();
        assertThat(result.events()).extracting(TrackedEvent::userId).containsExactly("a\tb\\Né😀\"q\"", "42");
        assertThat(result.events().get(1).eventId()).isEqualTo("7");
    }

    @Test
    void aUtf8ByteOrderMarkIsSkipped() {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] line = "{\"user\":\"u\",\"event\":\"click\"}".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[bom.length + line.length];
        System.arraycopy(bom, 0, body, 0, 3);
        System.arraycopy(line, 0, body, 3, line.length);
        assertThat(parser.parse(body, body.length, Format.NDJSON, NOW_MS).events()).hasSize(1);
    }

    @Test
    void listsEveryBadLineWithItsNumberAndTheSameMessagesAsTheQueryForm() {
        BatchParser.Result result = ndjson(String.join("\n",
                "{\"user\":\"ok\",\"event\":\"click\"}",
                "{\"user\":\"a\\u0000b\",\"event\":\"click\"}",
                "{\"user\":\"\\ud800x\",\"event\":\"click\"}",
                "{\"user\":\"a\",\"user\":\"b\",\"event\":\"click\"}",
                "{\"user\":\"u\",\"event\":\"foo\"}",
                "not json"));
        assertThat(result.valid()).isFalse();
        assertThat(result.events()).hasSize(1);
        assertThat(result.errors()).containsExactly(
                new EventError(2, "user: expected no NUL character (%00), found 'a\\0b'"),
                new EventError(3, "user: expected Unicode text, found a lone surrogate (\\ud800) in '\ud800x'"),
                new EventError(4, "user: expected one value, found the field repeated"),
                new EventError(5, "event: expected click or impression, found 'foo'"),
                new EventError(6, "line: expected JSON, found invalid JSON (Unrecognized token 'not': was expecting "
                        + "(JSON String, Number, Array, Object or token 'null', 'true' or 'false'))"));
    }

    @Test
    void timestampsFollowTheQueryFormsRulesWhateverTheirJsonType() {
        BatchParser.Result result = ndjson(String.join("\n",
                "{\"timestamp\":123456789012345678901234567890,\"user\":\"u\",\"event\":\"click\"}",
                "{\"timestamp\":1.5,\"user\":\"u\",\"event\":\"click\"}",
                "{\"timestamp\":-5,\"user\":\"u\",\"event\":\"click\"}",
                "{\"timestamp\":1662981405,\"user\":\"u\",\"event\":\"click\"}",
                "{\"timestamp\":true,\"user\":\"u\",\"event\":\"click\"}"));
        assertThat(result.errors()).extracting(EventError::error).containsExactly(
                "timestamp: expected milliseconds since the epoch up to 253402300799999 (9999-12-31T23:59:59.999Z), "
                        + "found '123456789012345678901234567890'",
                "timestamp: expected a whole, non-negative number of milliseconds since the epoch, found '1.5'",
                "timestamp: expected a whole, non-negative number of milliseconds since the epoch, found '-5'",
                "timestamp: expected milliseconds since the epoch, found '1662981405', which looks like seconds "
                        + "(2022-09-12T11:16:45Z); multiply it by 1000",
                "timestamp: expected a string or a number, found a boolean");
    }

    @Test
    void anIdNeedsATimestampAndFitsIn64Bytes() {
        BatchParser.Result result = ndjson("{\"user\":\"u\",\"event\":\"click\",\"id\":\"x\"}\n"
                + "{\"timestamp\":1764363600000,\"user\":\"u\",\"event\":\"click\",\"id\":\"" + "i".repeat(65) + "\"}\n"
                + "{\"timestamp\":1764363600000,\"user\":\"u\",\"event\":\"click\",\"id\":\"\"}");
        assertThat(result.errors()).extracting(EventError::error).containsExactly(
                "timestamp: expected a value with id, so that a resent event lands in the same hour, found nothing",
                "id: expected an event id of 1 to 64 bytes, found 65 bytes: '" + "i".repeat(64) + "…'",
                "id: expected an event id of 1 to 64 bytes, found ''");
    }

    @Test
    void limitsStopReadingAndNameTheLimit() {
        byte[] eleven = "{\"user\":\"u\",\"event\":\"click\"}\n".repeat(11).getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> parser.parse(eleven, eleven.length, Format.NDJSON, NOW_MS))
                .isInstanceOf(BatchParser.LimitException.class)
                .hasMessage("events: expected at most 10 per request (MAX_BATCH_EVENTS), found more");
        assertThatThrownBy(() -> ndjson("{\"user\":\"" + "u".repeat(600) + "\",\"event\":\"click\"}"))
                .isInstanceOf(BatchParser.LimitException.class)
                .hasMessage("line 1: expected at most 512 bytes (MAX_LINE_BYTES), found 627 bytes");
    }

    @Test
    void anEmptyBodyIsRefused() {
        assertThatThrownBy(() -> ndjson("\n\r\n")).isInstanceOf(InvalidRequestException.class)
                .hasMessage("body: expected at least one event, found none");
    }

    @Test
    void readsAJsonArrayWithTheIndexOfEachBadElementWhateverItsLine() {
        byte[] body = ("[\n {\"user\":\"a\",\"event\":\"click\"},\n {\"user\":\"b\",\"event\":\"nope\"},\n 3\n]")
                .getBytes(StandardCharsets.UTF_8);
        BatchParser.Result result = parser.parse(body, body.length, Format.JSON_ARRAY, NOW_MS);
        assertThat(result.events()).extracting(TrackedEvent::userId).containsExactly("a");
        assertThat(result.errors()).containsExactly(
                new EventError(1, "event: expected click or impression, found 'nope'"),
                new EventError(2, "event: expected a JSON object, found a number"));
        String ok = "{\"user\":\"a\",\"event\":\"click\"}";
        assertThat(array(parser, "[" + ok + "," + ok + "," + ok + ",{\"user\":\"b\",\"event\":\"nope\"}," + ok
                + ",[]]").errors()).containsExactly(
                        new EventError(3, "event: expected click or impression, found 'nope'"),
                        new EventError(5, "event: expected a JSON object, found an array"));
        byte[] notArray = "{\"user\":\"a\"}".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> parser.parse(notArray, notArray.length, Format.JSON_ARRAY, NOW_MS))
                .hasMessage("body: expected a JSON array of events, found an object");
        assertThatThrownBy(() -> array(parser, "[" + ok + ",{\"user\":\"b\",\"pad\":\"" + "p".repeat(600) + "\"}]"))
                .isInstanceOf(BatchParser.LimitException.class)
                .hasMessage("event at index 1: expected at most 512 bytes (MAX_LINE_BYTES), found 621 bytes");
    }

    @Test
    void jsonErrorsGiveOurOwnPositionsAndNothingOfTheParsersInternals() {
        assertThat(ndjson("{\"user\":\"a\"\n{\"user\":\"a\"]").errors()).containsExactly(
                new EventError(1, "line: expected JSON, found invalid JSON (Unexpected end-of-input: expected close "
                        + "marker for Object (start marker at column 1))"),
                new EventError(2, "line: expected JSON, found invalid JSON (Unexpected close marker ']': expected '}' "
                        + "(for Object starting at column 1))"));
        assertThatThrownBy(() -> array(parser, "[{\"user\":\"a\",\"event\":\"click\"},\n {\"user\":\"a\""))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("body: expected a JSON array of events, found invalid JSON (Unexpected end-of-input: "
                        + "expected close marker for Object (start marker at line 2, column 2)) in the element at "
                        + "index 1");
    }

    @Test
    void userAndIdAreAStringOrAnIntegerAndTheMessageSaysSo() {
        assertThat(ndjson(String.join("\n",
                "{\"user\":1e3,\"event\":\"click\"}",
                "{\"timestamp\":1764363600000,\"user\":\"u\",\"event\":\"click\",\"id\":5.0}",
                "{\"user\":[1],\"event\":\"click\"}",
                "{\"user\":\"u\",\"event\":\"click\",\"timestamp\":1764363600000,\"id\":{\"a\":1}}",
                "{\"user\":" + "1".repeat(80) + ".5,\"event\":\"click\"}")).errors()).extracting(EventError::error)
                .containsExactly(
                        "user: expected a string or an integer, found '1e3', a number with a fraction or an exponent",
                        "id: expected a string or an integer, found '5.0', a number with a fraction or an exponent",
                        "user: expected a string or an integer, found an array",
                        "id: expected a string or an integer, found an object",
                        "user: expected a string or an integer, found '" + "1".repeat(64) + "…', a number with a "
                                + "fraction or an exponent");
    }

    private BatchParser.Result array(BatchParser target, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return target.parse(bytes, bytes.length, Format.JSON_ARRAY, NOW_MS);
    }

    @Test
    void aJsonArrayBeyondTheParsersLimitsIsRefusedWithAReasonInOurOwnWords() {
        assertThatThrownBy(() -> array(parser, "[".repeat(1_500) + "]".repeat(1_500)))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("body: expected JSON nested at most 1000 levels deep, found deeper nesting in the "
                        + "element at index 0");
        assertThatThrownBy(() -> array(new BatchParser(10, 4_096, EventWindow.ANY),
                "[{\"user\":\"a\",\"event\":\"click\"},{\"x\":"
                + "1".repeat(2_000) + "}]"))
                .isInstanceOf(InvalidRequestException.class)
                .hasMessage("body: expected numbers of at most 1000 digits, found a longer one in the element at "
                        + "index 1");
    }

    @Test
    void aStringOrNameLongerThanALineIsTheLineLimitEvenBeforeItsElementEnds() {
        // Jackson's own string and name limits are set to MAX_LINE_BYTES: a token that long makes its event too long.
        assertThatThrownBy(() -> array(parser, "[{\"" + "n".repeat(60_000) + "\":1}]"))
                .isInstanceOf(BatchParser.LimitException.class)
                .hasMessage("event at index 0: expected at most 512 bytes (MAX_LINE_BYTES), found more");
        assertThatThrownBy(() -> array(parser, "[{\"user\":\"a\",\"event\":\"click\"},{\"user\":\""
                + "u".repeat(600) + "\"}]"))
                .isInstanceOf(BatchParser.LimitException.class)
                .hasMessage("event at index 1: expected at most 512 bytes (MAX_LINE_BYTES), found more");
    }

    @Test
    void anNdjsonLineBeyondTheParsersLimitsIsAEventErrorInOurOwnWords() {
        BatchParser roomy = new BatchParser(10, 4_096, EventWindow.ANY);
        byte[] body = ("{\"user\":\"u\",\"event\":\"click\",\"x\":" + "1".repeat(2_000) + "}\n"
                + "{\"user\":\"u\",\"event\":\"click\",\"x\":" + "[".repeat(1_500) + "]".repeat(1_500) + "}")
                .getBytes(StandardCharsets.UTF_8);
        assertThat(roomy.parse(body, body.length, Format.NDJSON, NOW_MS).errors()).containsExactly(
                new EventError(1, "line: expected numbers of at most 1000 digits, found a longer one"),
                new EventError(2, "line: expected JSON nested at most 1000 levels deep, found deeper nesting"));
    }

    @Test
    void countsTheLinesThatHoldAnythingButBlanksWithoutParsing() {
        byte[] body = "{\"a\":1}\r\n\n  \t\r\n{\"b\":2}\n{\"c\":3}".getBytes(StandardCharsets.UTF_8);
        assertThat(BatchParser.countLines(body, body.length)).isEqualTo(3);
        assertThat(BatchParser.countLines(body, 9)).isEqualTo(1);
        assertThat(BatchParser.countLines(new byte[0], 0)).isZero();
    }
}
