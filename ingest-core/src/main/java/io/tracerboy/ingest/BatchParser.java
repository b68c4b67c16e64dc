package io.tracerboy.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.util.List;

/**
 * Parses the body of {@code POST /analytics/batch}: NDJSON (one event object per line; blank lines and CRLF allowed)
 * or a JSON array of event objects, with Jackson's streaming parser. Each event is checked by the same rules, with the
 * same messages, as the query form ({@link AnalyticsQuery}); unknown fields are ignored, a known field given twice is
 * refused. All events are parsed, so the answer lists every bad event (the first {@value #MAX_ERRORS_LISTED}), by its
 * line in NDJSON and by its index in a JSON array. Limits stop reading at once with a {@link LimitException}; JSON that
 * breaks the parser's own limits (nesting deeper than {@value #MAX_NESTING_DEPTH}, a number longer than
 * {@value #MAX_NUMBER_DIGITS} digits) is refused like invalid JSON. Thread-safe; one instance serves all requests.
 */
public final class BatchParser {
    /** The body formats accepted, each with the name of the position its errors are reported at. */
    public enum Format {
        /** Errors by line, from 1 (blank lines count). */
        NDJSON("line"),
        /** Errors by the element's index in the array, from 0: a whole array may be on one line. */
        JSON_ARRAY("index");

        private final String positionName;

        Format(String positionName) {
            this.positionName = positionName;
        }

        /** {@code line} or {@code index}: the field an answer reports an error's position in. */
        public String positionName() {
            return positionName;
        }
    }

    /** One refused event: where it is in the body (its line, or its index in an array: see {@link Format}) and why. */
    public record EventError(int position, String error) {
    }

    /** What a body held: the valid events and, if any was bad, the errors (the request is then refused whole). */
    public record Result(List<TrackedEvent> events, List<EventError> errors, int errorCount) {
        public boolean valid() {
            return errorCount == 0;
        }
    }

    /** A limit of the request was crossed; the message names it. Answered {@code 413}. */
    public static final class LimitException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LimitException(String message) {
            super(message, null, false, false);
        }
    }

    /** How many event errors an answer lists; the total is given too. */
    public static final int MAX_ERRORS_LISTED = 100;

    /** The deepest nesting of arrays and objects accepted (Jackson's default, stated here to be named in messages). */
    public static final int MAX_NESTING_DEPTH = 1_000;

    /** The longest number accepted, in characters (Jackson's default, stated here to be named in messages). */
    public static final int MAX_NUMBER_DIGITS = 1_000;

    private final JsonFactory json;
    private final int maxEvents;
    private final int maxLineBytes;
    private final EventWindow window;

    /** {@code maxEvents} per request and {@code maxLineBytes} per NDJSON line (or per array element's text). */
    public BatchParser(int maxEvents, int maxLineBytes, EventWindow window) {
        this.maxEvents = maxEvents;
        this.window = window;
        this.maxLineBytes = maxLineBytes;
        // A string or field name longer than a line makes its event longer than MAX_LINE_BYTES: stop reading there.
        this.json = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH).maxNumberLength(MAX_NUMBER_DIGITS)
                .maxStringLength(maxLineBytes).maxNameLength(maxLineBytes).build()).build();
    }

    /** Parses {@code body[0, length)}; events without a timestamp take {@code nowMs}. */
    public Result parse(byte[] body, int length, Format format, long nowMs) {
        EventCollector collector = new EventCollector(nowMs, maxEvents, window);
        int start = startsWithBom(body, length) ? 3 : 0;
        if (format == Format.NDJSON) {
            parseLines(body, start, length, collector);
        } else {
            parseArray(body, start, length, collector);
        }
        if (collector.events.isEmpty() && collector.errorCount == 0) {
            throw new InvalidRequestException("body: expected at least one event, found none");
        }
        return new Result(collector.events, collector.errors, collector.errorCount);
    }

    private void parseLines(byte[] body, int start, int length, EventCollector collector) {
        int line = 0;
        for (int from = start; from < length; ) {
            int newline = indexOf(body, (byte) '\n', from, length);
            int to = newline < 0 ? length : newline;
            line++;
            int end = to > from && body[to - 1] == '\r' ? to - 1 : to;
            if (end - from > maxLineBytes) {
                throw new LimitException("line " + line + ": expected at most " + maxLineBytes
                        + " bytes (MAX_LINE_BYTES), found " + (end - from) + " bytes");
            }
            if (!isBlank(body, from, end)) {
                try (JsonParser parser = json.createParser(body, from, end - from)) {
                    if (parser.nextToken() != JsonToken.START_OBJECT) {
                        collector.error(line, "line: expected a JSON object, found "
                                + EventCollector.describe(parser.currentToken()));
                    } else {
                        collector.add(line, parser);
                        if (parser.nextToken() != null) {
                            collector.replaceLast(line, "line: expected one JSON object, found more after it");
                        }
                    }
                } catch (StreamConstraintsException beyond) {
                    collector.error(line, "line: expected " + JacksonMessages.beyondLimit(beyond));
                } catch (JsonProcessingException bad) {
                    collector.error(line, "line: expected JSON, found invalid JSON ("
                            + JacksonMessages.jsonProblem(bad, false) + ")");
                } catch (IOException impossible) {
                    throw new IllegalStateException(impossible); // reading from a byte array
                }
            }
            from = to + 1;
        }
    }

    private void parseArray(byte[] body, int start, int length, EventCollector collector) {
        int index = 0;
        String where = ""; // where in the body a parse failure happened, for its message
        try (JsonParser parser = json.createParser(body, start, length - start)) {
            if (parser.nextToken() != JsonToken.START_ARRAY) {
                throw new InvalidRequestException("body: expected a JSON array of events, found "
                        + EventCollector.describe(parser.currentToken()));
            }
            for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
                where = " in the element at index " + index;
                long fromByte = parser.currentTokenLocation().getByteOffset();
                if (token != JsonToken.START_OBJECT) {
                    collector.error(index, "event: expected a JSON object, found " + EventCollector.describe(token));
                    parser.skipChildren();
                } else {
                    collector.add(index, parser);
                    long bytes = parser.currentLocation().getByteOffset() - fromByte;
                    if (bytes > maxLineBytes) {
                        throw new LimitException("event at index " + index + ": expected at most " + maxLineBytes
                                + " bytes (MAX_LINE_BYTES), found " + bytes + " bytes");
                    }
                }
                index++;
                where = " after the element at index " + (index - 1);
            }
            where = " after the array";
            if (parser.nextToken() != null) {
                throw new InvalidRequestException("body: expected one JSON array, found more after it");
            }
        } catch (StreamConstraintsException beyond) {
            if (JacksonMessages.isTokenLength(beyond)) {
                throw new LimitException("event at index " + index + ": expected at most " + maxLineBytes
                        + " bytes (MAX_LINE_BYTES), found more");
            }
            throw new InvalidRequestException("body: expected " + JacksonMessages.beyondLimit(beyond) + where);
        } catch (JsonProcessingException bad) {
            // Not bad.getLocation(): Jackson's limits throw without one.
            throw new InvalidRequestException("body: expected a JSON array of events, found invalid JSON ("
                    + JacksonMessages.jsonProblem(bad, true) + ")" + where);
        } catch (IOException impossible) {
            throw new IllegalStateException(impossible);
        }
    }

    private static boolean startsWithBom(byte[] body, int length) {
        return length >= 3 && body[0] == (byte) 0xEF && body[1] == (byte) 0xBB && body[2] == (byte) 0xBF;
    }

    private static int indexOf(byte[] body, byte b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (body[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isBlank(byte[] body, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = body[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /** The most events one request may carry. */
    public int maxEvents() {
        return maxEvents;
    }

    /**
     * The lines of an NDJSON body that hold anything but blanks: its events, if it is valid. Counted without parsing,
     * so a body the ring cannot take anyway is refused for the price of one pass over its bytes.
     */
    public static int countLines(byte[] body, int length) {
        int lines = 0;
        boolean blank = true;
        for (int i = 0; i < length; i++) {
            byte b = body[i];
            if (b == '\n') {
                lines += blank ? 0 : 1;
                blank = true;
            } else if (b != ' ' && b != '\t' && b != '\r') {
                blank = false;
            }
        }
        return lines + (blank ? 0 : 1);
    }
}
