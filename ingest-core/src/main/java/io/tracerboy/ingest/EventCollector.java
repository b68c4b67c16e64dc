package io.tracerboy.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Gathers one batch body's events and errors as {@link BatchParser} reads them, each event object checked by the query
 * form's rules ({@link AnalyticsQuery}), enforcing the events-per-request limit as it goes. One per request, on the
 * thread that parses it.
 */
final class EventCollector {
    private static final String[] FIELDS = {"timestamp", "user", "event", "id"};
    private static final int TIMESTAMP = 0;
    private static final int EVENT = 2;

    /** How much of a refused number a message quotes. */
    private static final int QUOTED_CHARS = 64;

    private final long nowMs;
    private final int maxEvents;
    private final EventWindow window;
    final List<TrackedEvent> events = new ArrayList<>();
    final List<BatchParser.EventError> errors = new ArrayList<>();
    int errorCount;

    EventCollector(long nowMs, int maxEvents, EventWindow window) {
        this.nowMs = nowMs;
        this.maxEvents = maxEvents;
        this.window = window;
    }

    /**
     * Reads one event object at {@code position}, the parser on its START_OBJECT; leaves it on the matching
     * END_OBJECT.
     */
    void add(int position, JsonParser parser) throws IOException {
        if (events.size() + errorCount >= maxEvents) {
            throw new BatchParser.LimitException("events: expected at most " + maxEvents
                    + " per request (MAX_BATCH_EVENTS), found more");
        }
        String[] values = new String[FIELDS.length];
        String problem = null;
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            int field = fieldIndex(name);
            if (field < 0) {
                parser.skipChildren(); // unknown fields are ignored
                continue;
            }
            if (problem != null) {
                parser.skipChildren();
                continue;
            }
            if (values[field] != null) {
                problem = name + ": expected one value, found the field repeated";
            } else if (value == JsonToken.VALUE_STRING || value == JsonToken.VALUE_NUMBER_INT
                    || value == JsonToken.VALUE_NUMBER_FLOAT && field == TIMESTAMP) {
                // Numbers keep the text they were sent as: "timestamp": 1.5 gets the query form's message.
                values[field] = parser.getText();
            } else if (value == JsonToken.VALUE_NUMBER_FLOAT && field != EVENT) {
                problem = name + ": expected a string or an integer, found '" + quoted(parser.getText())
                        + "', a number with a fraction or an exponent";
            } else if (value != JsonToken.VALUE_NULL) {
                problem = name + ": expected " + expectedType(field) + ", found " + describe(value);
                parser.skipChildren();
            }
        }
        if (problem != null) {
            error(position, problem);
            return;
        }
        try {
            events.add(AnalyticsQuery.event(values[0], values[1], values[2], values[3], nowMs, window));
        } catch (InvalidRequestException invalid) {
            error(position, invalid.getMessage());
        }
    }

    void error(int position, String message) {
        if (events.size() + errorCount >= maxEvents) {
            throw new BatchParser.LimitException("events: expected at most " + maxEvents
                    + " per request (MAX_BATCH_EVENTS), found more");
        }
        errorCount++;
        if (errors.size() < BatchParser.MAX_ERRORS_LISTED) {
            errors.add(new BatchParser.EventError(position, message));
        }
    }

    /** The object just added was followed by more on its line: count the line as an error instead. */
    void replaceLast(int line, String message) {
        if (!errors.isEmpty() && errors.get(errors.size() - 1).position() == line) {
            return; // already refused for its content
        }
        events.remove(events.size() - 1);
        error(line, message);
    }

    /** The JSON types a field takes, as a message says them. */
    private static String expectedType(int field) {
        return switch (field) {
            case TIMESTAMP -> "a string or a number";
            case EVENT -> "click or impression";
            default -> "a string or an integer";
        };
    }

    private static String quoted(String text) {
        return text.length() <= QUOTED_CHARS ? text : text.substring(0, QUOTED_CHARS) + "…";
    }

    private static int fieldIndex(String name) {
        for (int i = 0; i < FIELDS.length; i++) {
            if (FIELDS[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /** A JSON token as a message names it: {@code an object}, {@code a number}, {@code nothing}. */
    static String describe(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.name().toLowerCase(Locale.ROOT);
        };
    }
}
