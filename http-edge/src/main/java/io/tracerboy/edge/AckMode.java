package io.tracerboy.edge;

/** When a POST is answered {@code 204}: once the event is in the ring, or once its batch has committed. */
public enum AckMode {
    BUFFERED, COMMITTED
}
