package io.tracerboy.edge;

/** A bad configuration value: the message is the whole, one-line explanation, printed without a stack trace. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message, null, false, false);
    }
}
