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
import java.util.function.LongSupplier;

/** The in-process server the HTTP tests talk to on a free port, and the requests they send it. */
final class TestServers {
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private TestServers() {
    }

    /** A server on {@code url} listening on 127.0.0.1 on a free port; {@code extra} settings override the defaults. */
    static TracerboyServer startServer(String url, Map<String, String> extra) throws IOException {
        return startServer(url, extra, System::currentTimeMillis);
    }

    /** As above, with {@code millisClock} as the server's wall clock (a test pins it to a known instant). */
    static TracerboyServer startServer(String url, Map<String, String> extra, LongSupplier millisClock)
            throws IOException {
        Map<String, String> env = new HashMap<>(Map.of("DATABASE_URL", url, "PORT", "0",
                "BIND_ADDRESS", "127.0.0.1", "SHUTDOWN_TIMEOUT_MS", "5000"));
        env.putAll(extra);
        return TracerboyServer.start(TracerboyConfig.load(new String[0], new Properties(), env), millisClock);
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

    /** {@code POST /analytics/batch} with this body and content type, and any more headers as name, value pairs. */
    static HttpResponse<String> batch(TracerboyServer target, String contentType, byte[] body, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port()
                + "/analytics/batch")).header("Content-Type", contentType).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A request to the admin API with this method, {@code Authorization} header and body (null: none). */
    static HttpResponse<String> admin(TracerboyServer target, String method, String path, String authorization,
                                      String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + target.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(30));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
