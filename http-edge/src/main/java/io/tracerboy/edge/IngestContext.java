package io.tracerboy.edge;

import io.tracerboy.ingest.PipelineStats;
import java.util.function.LongSupplier;

/**
 * What both ingest handlers ({@code POST /analytics} and {@code POST /analytics/batch}) are built with: the gate into
 * the ring, the counters for the refusals they make themselves (bad or oversized requests), the wall clock, the
 * acknowledgement mode and how long a body may take to arrive.
 */
record IngestContext(PublishGate gate, PipelineStats stats, LongSupplier millisClock, AckMode ackMode,
                     long requestTimeoutMs) {
    /** Whether an answer waits for the commit of the events it acknowledges ({@code ACK_MODE=committed}). */
    boolean ackOnCommit() {
        return ackMode == AckMode.COMMITTED;
    }
}
