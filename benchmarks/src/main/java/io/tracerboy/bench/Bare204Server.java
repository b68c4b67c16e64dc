package io.tracerboy.bench;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;

/**
 * The ceiling for the edge: an Undertow server with tracerboy's IO threads and options whose only handler answers
 * {@code 204}. Run as {@code java -cp benchmarks.jar io.tracerboy.bench.Bare204Server PORT IO_THREADS}.
 */
public final class Bare204Server {
    private Bare204Server() {
    }

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int ioThreads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        Undertow.builder()
                .addHttpListener(port, "127.0.0.1")
                .setIoThreads(ioThreads)
                .setServerOption(UndertowOptions.DECODE_URL, false)
                .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, true)
                .setHandler(exchange -> {
                    exchange.setStatusCode(204);
                    exchange.endExchange();
                })
                .build()
                .start();
        System.out.println("bare 204 server listening on http://127.0.0.1:" + port);
    }
}
