package io.tracerboy.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Jackson's parse errors and broken limits in the words of a {@code 400}: no Jackson internals, our positions. */
final class JacksonMessages {
    /** A position in Jackson's messages, with its own configuration in it, which is not the client's affair. */
    private static final Pattern JACKSON_LOCATION = Pattern.compile(
            "\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]");
    private static final Pattern JACKSON_SOURCE = Pattern.compile("\\[Source: [^\\]]*\\]");

    private JacksonMessages() {
    }

    /**
     * Jackson's description of a syntax error, which says well what is wrong, with the positions it names in our
     * words: line and column in an array body, the column alone on an NDJSON line (whose number the answer gives).
     */
    static String jsonProblem(JsonProcessingException bad, boolean withLine) {
        Matcher located = JACKSON_LOCATION.matcher(String.valueOf(bad.getOriginalMessage()));
        String message = located.replaceAll(at -> (withLine ? "line " + at.group(1) + ", " : "") + "column "
                + at.group(2));
        return JACKSON_SOURCE.matcher(message).replaceAll("an earlier position").replaceAll("[\\r\\n]+", " ");
    }

    /**
     * A broken Jackson limit, in our words: Jackson's own name its internals ({@code StreamReadConstraints}). Its
     * messages are the only way to tell its limits apart; an unknown one still gets a reason, only a vaguer one.
     */
    static String beyondLimit(StreamConstraintsException beyond) {
        String message = String.valueOf(beyond.getOriginalMessage());
        if (message.startsWith("Document nesting depth")) {
            return "JSON nested at most " + BatchParser.MAX_NESTING_DEPTH + " levels deep, found deeper nesting";
        }
        if (message.startsWith("Number value length")) {
            return "numbers of at most " + BatchParser.MAX_NUMBER_DIGITS + " digits, found a longer one";
        }
        return "JSON within the parser's limits, found more than they allow";
    }

    /** A string or field name longer than {@code MAX_LINE_BYTES}, the limit the parser was given for them. */
    static boolean isTokenLength(StreamConstraintsException beyond) {
        String message = String.valueOf(beyond.getOriginalMessage());
        return message.startsWith("String value length") || message.startsWith("Name length");
    }
}
