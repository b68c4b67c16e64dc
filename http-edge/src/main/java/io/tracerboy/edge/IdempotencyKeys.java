package io.tracerboy.edge;

import io.tracerboy.ingest.Hours;
import io.tracerboy.ingest.InvalidRequestException;
import io.tracerboy.ingest.RequestKey;
import io.tracerboy.storage.RequestKeys;
import io.undertow.util.HttpString;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.function.LongSupplier;
import javax.sql.DataSource;

/**
 * {@code Idempotency-Key} on {@code POST /analytics/batch}, after the IETF httpapi draft: the first request with a key
 * is written with it; a resend with the same key and body within {@code EVENT_ID_RETENTION_HOURS} is answered what the
 * first was answered, with {@code Idempotent-Replayed: true}, and writes nothing; the same key with another body is a
 * {@code 422}. Copies sent at once (before the first is written) are settled by the writer: stored once, the others'
 * events answered as resends. The key is looked up on the worker thread that parsed the body; when the database
 * cannot be asked, the request is refused with a {@code 503} rather than accepted unchecked.
 */
final class IdempotencyKeys {
    static final HttpString HEADER = new HttpString("Idempotency-Key");
    static final HttpString REPLAYED = new HttpString("Idempotent-Replayed");
    static final int MAX_KEY_CHARS = 255;

    /** What to do with a keyed request: write it with {@code fresh}, or answer {@code replay}, or refuse. */
    record Decision(RequestKey fresh, RequestKeys.Stored replay, int status, String refusal) {
    }

    private final DataSource dataSource;
    private final int windowHours;
    private final LongSupplier millisClock;

    IdempotencyKeys(DataSource dataSource, int windowHours, LongSupplier millisClock) {
        this.dataSource = dataSource;
        this.windowHours = windowHours;
        this.millisClock = millisClock;
    }

    /**
     * The key a request carries (a structured-field string, quoted, as the draft writes it, or bare), or null without
     * the header; {@link InvalidRequestException} when it is not 1 to 255 printable ASCII characters.
     */
    static String parse(String header) {
        if (header == null) {
            return null;
        }
        String key = header.length() >= 2 && header.startsWith("\"") && header.endsWith("\"")
                ? header.substring(1, header.length() - 1) : header;
        boolean printable = !key.isEmpty() && key.length() <= MAX_KEY_CHARS
                && key.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
        if (!printable) {
            throw new InvalidRequestException("Idempotency-Key: expected 1 to " + MAX_KEY_CHARS
                    + " printable ASCII characters, found " + (key.isEmpty() ? "nothing" : "'" + key + "'"));
        }
        return key;
    }

    /** Decides for a request of {@code events} events with {@code body} (decompressed) under {@code key}. */
    Decision decide(String key, byte[] body, int events) {
        byte[] sha256 = sha256(body);
        RequestKeys.Stored stored;
        try {
            stored = RequestKeys.find(dataSource, key, millisClock.getAsLong() - windowHours * Hours.HOUR_MS);
        } catch (SQLException e) {
            return new Decision(null, null, 503, "not accepted: the Idempotency-Key cannot be checked while the"
                    + " database is unreachable; send the batch again");
        }
        if (stored == null) {
            return new Decision(new RequestKey(key, sha256, events), null, 0, null);
        }
        if (!stored.sameBody(sha256)) {
            return new Decision(null, null, 422, "Idempotency-Key: expected the body first sent with '" + key
                    + "' (sha256 " + HexFormat.of().formatHex(stored.bodySha256()) + "), found another body (sha256 "
                    + HexFormat.of().formatHex(sha256) + ")");
        }
        return new Decision(null, stored, 200, null);
    }

    private static byte[] sha256(byte[] body) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(body);
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible); // every JDK has SHA-256
        }
    }
}
