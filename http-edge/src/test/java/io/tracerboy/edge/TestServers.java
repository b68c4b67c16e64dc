package io.tracerboy.edge;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/** The in-process server the HTTP tests talk to on a free port, and the requests they send it. */
final class TestServers {
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private TestServers() {
    }

    /** A server on {@code url} listening on 127.0.0.1 on a free port; {@code extra} settings override the defaults. */
    static TracerboyServer startServer(String url, Map<String, String> extra) throws IOException {
        Map<String, String> env = new HashMap<>(Map.of("DATABASE_URL", url, "PORT", "0",
                "BIND_ADDRESS", "127.0.0.1", "SHUTDOWN_TIMEOUT_MS", "5000"));
        env.putAll(extra);
        return TracerboyServer.start(TracerboyConfig.load(new String[0], new Properties(), env));
    }

    static HttpResponse<String> send(TracerboyServer target, String method, String pathAndQuery) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(30))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until the server has committed at least {@code rows} events in all. */
    static void awaitRowsWritten(TracerboyServer target, long rows) {
        await().atMost(Duration.ofSeconds(30)).until(() -> target.stats().rowsWritten() >= rows);
    }
}
