package io.tracerboy.ingest;

/**
 * A client mistake: the message is the one-line reason sent back with {@code 400}, in the form
 * {@code NAME: expected …, found …}. Carries no stack trace, since it is thrown for user input on hot paths.
 */
public final class InvalidRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(message, null, false, false);
    }
}
