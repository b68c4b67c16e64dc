package io.tracerboy.edge;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/** {@code GET /metrics}: the registry in the Prometheus text format (0.0.4). Runs on a worker thread. */
final class MetricsHandler implements HttpHandler {
    private final PrometheusRegistry registry;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    MetricsHandler(PrometheusRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if (exchange.isInIoThread()) {
            exchange.dispatch(this);
            return;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(16_384);
        writer.write(body, registry.scrape(), EscapingScheme.ALLOW_UTF8);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, writer.getContentType());
        exchange.getResponseSender().send(ByteBuffer.wrap(body.toByteArray()));
    }
}
