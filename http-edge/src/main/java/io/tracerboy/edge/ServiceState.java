package io.tracerboy.edge;

/** Lifecycle flags read by every handler: whether POSTs are accepted, and whether the schema is migrated. */
final class ServiceState {
    volatile boolean accepting = true;
    volatile boolean migrated;
    volatile String fatalError;
}
