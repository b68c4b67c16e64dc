package io.tracerboy.storage;

/**
 * Which storage engine the operator asks for ({@code STORAGE_ENGINE}); {@code AUTO} detects. {@code POSTGRESQL} keeps
 * plain tables even where TimescaleDB or Citus could be had (on a Citus coordinator: local tables, nothing
 * distributed).
 */
public enum EnginePreference {
    AUTO, TIMESCALEDB, POSTGRESQL, CITUS
}
