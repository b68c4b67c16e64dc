package io.tracerboy.ingest;

/** The kinds of tracked event; {@link #code()} is the value stored in the {@code events.kind} column. */
public enum EventKind {
    CLICK("click", (short) 0),
    IMPRESSION("impression", (short) 1);

    private final String wireName;
    private final short code;

    EventKind(String wireName, short code) {
        this.wireName = wireName;
        this.code = code;
    }

    /** The name used in the {@code event} query parameter. */
    public String wireName() {
        return wireName;
    }

    /** The {@code smallint} stored for this kind. */
    public short code() {
        return code;
    }

    /** The kind named by the {@code event} parameter, or {@code null} when the name is unknown (case-sensitive). */
    public static EventKind fromWireName(String name) {
        if ("click".equals(name)) {
            return CLICK;
        }
        if ("impression".equals(name)) {
            return IMPRESSION;
        }
        return null;
    }
}
