package io.tracerboy.edge;

import io.undertow.Handlers;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RoutingHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The HTTP routes, declared once: each path with the methods it answers and their handler. The routing, HEAD (answered
 * wherever GET is: the same handler, and Undertow sends no body) and the {@code Allow} header of a {@code 405} all
 * follow from these declarations, so they cannot disagree. An undeclared path is a {@code 404}.
 */
final class Routes {
    /** Path to method to handler; the methods in the order an {@code Allow} header lists them. */
    private final Map<String, Map<HttpString, HttpHandler>> byPath = new LinkedHashMap<>();

    /** Declares that {@code path} answers {@code methods} with {@code handler}; GET brings HEAD with it. */
    Routes add(String path, HttpHandler handler, HttpString... methods) {
        Map<HttpString, HttpHandler> route = byPath.computeIfAbsent(path,
                p -> new TreeMap<>(Comparator.comparing(HttpString::toString)));
        for (HttpString method : methods) {
            if (route.put(method, handler) != null) {
                throw new IllegalArgumentException(method + " " + path + " is declared twice");
            }
            if (method.equals(Methods.GET) && route.putIfAbsent(Methods.HEAD, handler) != null) {
                throw new IllegalArgumentException("HEAD " + path + " comes with GET; declare it only once");
            }
        }
        return this;
    }

    /** The methods {@code path} answers, as an {@code Allow} header lists them ({@code GET, HEAD, POST}). */
    String allowed(String path) {
        return byPath.getOrDefault(path, Map.of()).keySet().stream().map(HttpString::toString)
                .collect(Collectors.joining(", "));
    }

    /** The one handler that routes by path and method, answering {@code 404} and {@code 405} with a reason. */
    HttpHandler handler() {
        RoutingHandler routing = Handlers.routing();
        byPath.forEach((path, methods) -> methods.forEach((method, handler) -> routing.add(method, path, handler)));
        return routing
                .setFallbackHandler(exchange -> Replies.line(exchange, 404, "not found: " + exchange.getRequestPath()))
                .setInvalidMethodHandler(this::methodNotAllowed);
    }

    private void methodNotAllowed(HttpServerExchange exchange) {
        String path = exchange.getRequestPath();
        exchange.getResponseHeaders().put(Headers.ALLOW, allowed(path));
        Replies.line(exchange, 405, "method not allowed: " + exchange.getRequestMethod() + " " + path);
    }
}
