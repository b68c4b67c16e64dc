package io.tracerboy.edge;

import io.tracerboy.ingest.CommitListener;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Answers a committed-mode batch once every one of its events is settled: {@code 200} with how many were resends
 * when all committed, {@code 503} when none was written and none may have been, {@code 504} otherwise (part of it
 * may be stored: resend it only with event ids or its Idempotency-Key).
 */
final class BatchAnswer implements CommitListener {
    private final HttpServerExchange exchange;
    private final int events;
    private final AtomicInteger settled = new AtomicInteger();
    private final AtomicInteger resends = new AtomicInteger();
    private final AtomicInteger notWritten = new AtomicInteger();
    private final AtomicInteger unknown = new AtomicInteger();

    BatchAnswer(HttpServerExchange exchange, int events) {
        this.exchange = exchange;
        this.events = events;
    }

    @Override
    public void onCommitted(boolean resend) {
        if (resend) {
            resends.incrementAndGet();
        }
        settle();
    }

    @Override
    public void onAbandoned() {
        notWritten.incrementAndGet();
        settle();
    }

    @Override
    public void onOutcomeUnknown() {
        unknown.incrementAndGet();
        settle();
    }

    private void settle() {
        if (settled.incrementAndGet() != events) {
            return;
        }
        exchange.getIoThread().execute(() -> {
            if (notWritten.get() == 0 && unknown.get() == 0) {
                JsonReplies.send(exchange, 200, "{\"accepted\":" + events + ",\"duplicates\":" + resends.get()
                        + "}");
            } else if (notWritten.get() == events) {
                JsonReplies.unavailable(exchange, PublishGate.notWritten("batch"));
            } else {
                JsonReplies.send(exchange, 504, JsonReplies.error(PublishGate.BATCH_OUTCOME_UNKNOWN));
            }
        });
    }
}
