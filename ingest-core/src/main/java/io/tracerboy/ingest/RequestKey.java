package io.tracerboy.ingest;

/**
 * The {@code Idempotency-Key} of one batch request, carried by each of its {@code events} through the ring to the
 * writer, which records it in the transaction that stores them and skips them when the key was recorded already. The
 * writer keeps a keyed request whole in one batch. Identity is the request: two requests are never equal.
 */
public final class RequestKey {
    private final String key;
    private final byte[] bodySha256;
    private final int events;

    public RequestKey(String key, byte[] bodySha256, int events) {
        this.key = key;
        this.bodySha256 = bodySha256.clone();
        this.events = events;
    }

    public String key() {
        return key;
    }

    /** The SHA-256 of the request's body as received (decompressed): a resend must match it. */
    public byte[] bodySha256() {
        return bodySha256.clone();
    }

    /** How many events the request holds. */
    public int events() {
        return events;
    }
}
