package io.tracerboy.storage;

/** Which storage engine the operator asks for ({@code STORAGE_ENGINE}); {@code AUTO} detects. */
public enum EnginePreference {
    AUTO, TIMESCALEDB, POSTGRESQL
}
