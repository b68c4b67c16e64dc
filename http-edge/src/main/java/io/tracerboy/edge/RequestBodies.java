package io.tracerboy.edge;

import io.undertow.server.HttpServerExchange;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;

/**
 * Reads a request body without blocking an IO thread, within a byte limit and a deadline, for the handlers that must
 * see a whole request before they publish anything. A body over the limit is still read (and discarded) up to
 * {@link #DRAIN_ALLOWANCE_BYTES} past it, so a client that is still sending gets its {@code 413} rather than a reset.
 * Undertow's own {@code MAX_ENTITY_SIZE} is turned off ({@link TracerboyServer}): it is 2 MiB when unset, and past it
 * 2.4.4 resets the connection or prints a stack trace to stderr instead of letting us answer. The deadline is
 * {@code REQUEST_TIMEOUT_MS}, which Undertow applies to the headers only.
 */
final class RequestBodies {
    /** How far past the limit a body is still read before the {@code 413}; the connection is closed after it. */
    static final long DRAIN_ALLOWANCE_BYTES = 1 << 20;

    /** The whole body arrived within the limit: its bytes when kept (else null) and its length. */
    @FunctionalInterface
    interface Complete {
        void onBody(HttpServerExchange exchange, byte[] body, long bodyBytes);
    }

    /** The body is over the limit: {@code found} says by how much, for the message ("70000 bytes", "more than …"). */
    @FunctionalInterface
    interface TooLarge {
        void onTooLarge(HttpServerExchange exchange, String found);
    }

    private RequestBodies() {
    }

    /** Reads the body of {@code exchange}, keeping its bytes when {@code keep}; calls back on the IO thread. */
    static void read(HttpServerExchange exchange, long maxBytes, boolean keep, long timeoutMs, Complete complete,
                     TooLarge tooLarge) {
        var deadline = exchange.getIoThread().executeAfter(() -> IoUtils.safeClose(exchange.getConnection()),
                timeoutMs, TimeUnit.MILLISECONDS);
        long declared = exchange.getRequestContentLength();
        ByteArrayOutputStream kept = keep ? new ByteArrayOutputStream(declared > 0 ? (int) declared : 8_192) : null;
        long[] received = {0};
        exchange.getRequestReceiver().receivePartialBytes((ex, bytes, last) -> {
            if (ex.isResponseStarted()) {
                return; // refused already; what still arrives is discarded until the connection closes
            }
            received[0] += bytes.length;
            if (received[0] > maxBytes + DRAIN_ALLOWANCE_BYTES) {
                deadline.remove();
                ex.setPersistent(false);
                tooLarge.onTooLarge(ex, "more than " + (maxBytes + DRAIN_ALLOWANCE_BYTES) + " bytes");
                return;
            }
            if (kept != null && received[0] <= maxBytes) {
                kept.write(bytes, 0, bytes.length);
            }
            if (last) {
                deadline.remove();
                if (received[0] > maxBytes) {
                    ex.setPersistent(false);
                    tooLarge.onTooLarge(ex, received[0] + " bytes");
                } else {
                    complete.onBody(ex, kept == null ? null : kept.toByteArray(), received[0]);
                }
            }
        }, (ex, failure) -> {
            deadline.remove();
            IoUtils.safeClose(ex.getConnection()); // the client went away mid-body: nobody to answer
        });
    }
}
