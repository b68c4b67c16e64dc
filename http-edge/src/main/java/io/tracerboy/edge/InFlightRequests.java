package io.tracerboy.edge;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the requests in progress so a stop can wait for them, and once stopping answers new ones {@code 503} with a
 * reason and {@code Retry-After} (Undertow's {@code GracefulShutdownHandler} answers an empty {@code 503}). Also marks
 * a request whose body no route reads as the last on its connection. Wraps every route; runs on IO threads.
 */
final class InFlightRequests implements HttpHandler {

    /** The high bit of {@link #state}: stopping. The rest counts the requests in progress. */
    private static final long SHUTDOWN = 1L << 62;

    private final HttpHandler next;
    private final AtomicLong state = new AtomicLong();
    private final Object idle = new Object();

    InFlightRequests(HttpHandler next) {
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if ((state.incrementAndGet() & SHUTDOWN) != 0) {
            finished();
            exchange.setPersistent(false);
            Replies.unavailable(exchange, 1, PublishGate.REQUESTS_REFUSED);
            return;
        }
        if (!isIngest(exchange) && (exchange.getRequestContentLength() > 0
                || exchange.getRequestHeaders().contains(Headers.TRANSFER_ENCODING))) {
            // No other route reads a body: close after answering rather than drain a body of any size.
            exchange.setPersistent(false);
        }
        exchange.addExchangeCompleteListener((done, nextListener) -> {
            finished();
            nextListener.proceed();
        });
        next.handleRequest(exchange);
    }

    private static boolean isIngest(HttpServerExchange exchange) {
        return exchange.getRequestMethod().equals(Methods.POST) && exchange.getRequestPath().startsWith("/analytics");
    }

    private void finished() {
        if (state.decrementAndGet() == SHUTDOWN) {
            synchronized (idle) {
                idle.notifyAll();
            }
        }
    }

    /** Refuses new requests from now on; call once. */
    void shutdown() {
        state.addAndGet(SHUTDOWN);
    }

    /** Waits up to {@code timeoutMs} for the requests in progress to finish; true when none is left. */
    boolean awaitIdle(long timeoutMs) throws InterruptedException {
        long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (idle) {
            while ((state.get() & ~SHUTDOWN) != 0) {
                long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
                if (leftMs <= 0) {
                    return false;
                }
                idle.wait(leftMs);
            }
            return true;
        }
    }
}
