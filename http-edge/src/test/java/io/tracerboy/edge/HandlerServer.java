package io.tracerboy.edge;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpHandler;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * A bare Undertow on 127.0.0.1 and a free port, with the URL options of the real server, serving the handlers under
 * test: for the handler tests that need no database.
 */
final class HandlerServer implements AutoCloseable {
    private final Undertow undertow;

    HandlerServer(HttpHandler handler) {
        undertow = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setServerOption(UndertowOptions.DECODE_URL, false)
                .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, true)
                .setHandler(handler)
                .build();
        undertow.start();
    }

    int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
    }

    @Override
    public void close() {
        undertow.stop();
    }
}
