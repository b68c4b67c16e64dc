package io.tracerboy.storage;

import io.tracerboy.ingest.EventBatch;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes an {@link EventBatch} as PostgreSQL binary COPY data for {@code events (ts, user_id, kind, event_key)}.
 * Binary needs no escaping, so every user id validation accepts (tabs, newlines, backslashes, {@code \N})
 * round-trips exactly; it is also cheaper to produce than text timestamps. The buffer is reused between batches:
 * one encoder per writer thread.
 */
public final class BinaryCopyEncoder {
    /** COPY statement matching this encoding. */
    public static final String COPY_SQL = "COPY events (ts, user_id, kind, event_key) FROM STDIN (FORMAT binary)";

    private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
        0, 0, 0, 0, // flags
        0, 0, 0, 0}; // header extension length
    /** Microseconds from the Unix epoch to PostgreSQL's epoch, 2000-01-01T00:00:00Z. */
    private static final long PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000L;

    private byte[] buffer = new byte[1 << 16];
    private int length;

    /** Begins a COPY stream in an emptied buffer: its header. */
    public void start() {
        length = 0;
        ensure(HEADER.length);
        System.arraycopy(HEADER, 0, buffer, 0, HEADER.length);
        length = HEADER.length;
    }

    /** Appends event {@code i} of {@code batch} as one row without an event key. */
    public void row(EventBatch batch, int i) {
        row(batch, i, false, 0);
    }

    /** Appends event {@code i} of {@code batch} as one row, with {@code eventKey} when {@code keyed} (else NULL). */
    public void row(EventBatch batch, int i, boolean keyed, long eventKey) {
        String user = batch.userId(i);
        ensure(2 + 12 + 4 + user.length() * 3 + 6 + 12);
        putShort(4);
        putInt(8);
        putLong(batch.timestampMs(i) * 1000 - PG_EPOCH_OFFSET_MICROS);
        int lengthAt = length;
        length += 4;
        int userBytes = putUtf8(user);
        putIntAt(lengthAt, userBytes);
        putInt(2);
        putShort(batch.kind(i).code());
        if (keyed) {
            putInt(8);
            putLong(eventKey);
        } else {
            putInt(-1); // NULL
        }
    }

    /** Appends the end-of-data marker. */
    public void finish() {
        ensure(2);
        putShort(-1);
    }

    /** Forgets what {@link #buffer()} holds (it has been sent), to go on appending rows of the same stream. */
    public void clear() {
        length = 0;
    }

    public byte[] buffer() {
        return buffer;
    }

    public int length() {
        return length;
    }

    private int putUtf8(String s) {
        int start = length;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
                System.arraycopy(bytes, 0, buffer, start, bytes.length);
                length = start + bytes.length;
                return bytes.length;
            }
            buffer[length++] = (byte) c;
        }
        return n;
    }

    private void ensure(int more) {
        if (length + more > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
        }
    }

    private void putShort(int v) {
        buffer[length++] = (byte) (v >>> 8);
        buffer[length++] = (byte) v;
    }

    private void putInt(int v) {
        putIntAt(length, v);
        length += 4;
    }

    private void putIntAt(int at, int v) {
        buffer[at] = (byte) (v >>> 24);
        buffer[at + 1] = (byte) (v >>> 16);
        buffer[at + 2] = (byte) (v >>> 8);
        buffer[at + 3] = (byte) v;
    }

    private void putLong(long v) {
        putInt((int) (v >>> 32));
        putInt((int) v);
    }
}
