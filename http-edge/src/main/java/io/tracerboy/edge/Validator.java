package io.tracerboy.edge;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Checks a raw setting value and describes what it accepts, from one declaration (Kafka's {@code ConfigDef.Range}):
 * the description is what {@code --help}, the README table and a refusal ({@code KEY: expected <describe>, found …})
 * say, so a range is written once.
 */
interface Validator<T> {
    /** The typed value, or null when {@code raw} does not fit (the caller names the setting). */
    T parse(String raw);

    /** What is accepted, as a refusal completes "expected …": {@code an integer 1..1000000}. */
    String describe();

    /**
     * As {@link #parse(String)}, told the name the value came by ({@code source}: variable, property or option), for a
     * validator that refuses in words of its own ({@code KEY: expected …, found …} naming the bad entry of a list).
     */
    default T parse(String source, String raw) {
        return parse(raw);
    }

    /** A validator from its parts. */
    static <T> Validator<T> of(String description, Function<String, T> parse) {
        return new Validator<>() {
            @Override
            public T parse(String raw) {
                return parse.apply(raw);
            }

            @Override
            public String describe() {
                return description;
            }
        };
    }

    /** An integer in {@code min..max}, both included. */
    static Validator<Long> range(long min, long max) {
        return of("an integer " + min + ".." + max, raw -> {
            if (!raw.matches("[0-9]{1,18}")) {
                return null;
            }
            long value = Long.parseLong(raw);
            return value < min || value > max ? null : value;
        });
    }

    /** An {@code int} in {@code min..max}. */
    static Validator<Integer> intRange(int min, int max) {
        Validator<Long> range = range(min, max);
        return of(range.describe(), raw -> {
            Long value = range.parse(raw);
            return value == null ? null : value.intValue();
        });
    }

    /** A power of two in {@code min..max}. */
    static Validator<Integer> powerOfTwo(int min, int max) {
        Validator<Long> range = range(min, max);
        return of("a power of two " + min + ".." + max, raw -> {
            Long value = range.parse(raw);
            return value == null || Long.bitCount(value) != 1 ? null : value.intValue();
        });
    }

    /** {@code word} (standing for {@code wordValue}) or what {@code otherwise} accepts. */
    static <T> Validator<T> or(String word, T wordValue, Validator<T> otherwise) {
        return of(word + " or " + otherwise.describe(), raw -> word.equals(raw) ? wordValue : otherwise.parse(raw));
    }

    /** One of an enum's constants, in lower case. */
    static <E extends Enum<E>> Validator<E> choice(Class<E> type) {
        List<String> names = Stream.of(type.getEnumConstants()).map(Validator::lower).toList();
        String description = String.join(", ", names.subList(0, names.size() - 1)) + " or "
                + names.get(names.size() - 1);
        return of(description, raw -> Stream.of(type.getEnumConstants()).filter(e -> lower(e).equals(raw)).findFirst()
                .orElse(null));
    }

    /** Any text {@code accept} takes, unchanged. */
    static Validator<String> text(String description, Predicate<String> accept) {
        return of(description, raw -> accept.test(raw) ? raw : null);
    }

    static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
