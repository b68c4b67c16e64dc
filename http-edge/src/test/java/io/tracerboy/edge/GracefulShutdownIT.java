package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.storage.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Runs the real {@code tracerboy.jar} as a child process, sends SIGTERM under load, and counts rows against 204s. */
class GracefulShutdownIT {
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
    private static final long HOUR = 1_700_000_000_000L / 3_600_000L * 3_600_000L;

    @Test
    void sigtermUnderLoadWritesEveryAcknowledgedEventAndExitsZero() throws Exception {
        Path jar = Path.of("target", "tracerboy.jar");
        assertThat(jar).exists();
        try (TestDatabase database = TestDatabase.create()) {
            ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", jar.toString()).redirectErrorStream(true);
            builder.environment().put("DATABASE_URL", database.url());
            builder.environment().put("PORT", "0");
            builder.environment().put("BIND_ADDRESS", "127.0.0.1");
            // Long linger and huge batches: at SIGTERM most acknowledged events are still only in memory.
            builder.environment().put("FLUSH_INTERVAL_MS", "30000");
            builder.environment().put("BATCH_SIZE", "1000000");
            Process process = builder.start();
            List<String> output = new ArrayList<>();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = lines.readLine()) != null; ) {
                        synchronized (output) {
                            output.add(line);
                        }
                        Matcher m = LISTENING.matcher(line);
                        if (m.find()) {
                            port.complete(Integer.parseInt(m.group(1)));
                        }
                    }
                } catch (Exception ignored) {
                    // the process ended
                }
                port.complete(-1);
            });
            reader.start();
            try {
                int p = port.get(60, TimeUnit.SECONDS);
                assertThat(p).as("port from the log: %s", output).isPositive();
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                awaitReady(http, p);

                AtomicLong acknowledged = new AtomicLong();
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    int client = c;
                    Thread t = new Thread(() -> {
                        for (int i = 0; i < 100_000; i++) {
                            try {
                                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(
                                        "http://127.0.0.1:" + p + "/analytics?timestamp=" + (HOUR + i) + "&user=c"
                                                + client + "-" + (i % 997) + "&event=click"))
                                        .POST(HttpRequest.BodyPublishers.noBody()).build(),
                                        HttpResponse.BodyHandlers.discarding());
                                if (response.statusCode() != 204) {
                                    return;
                                }
                                acknowledged.incrementAndGet();
                            } catch (Exception stopped) {
                                return;
                            }
                        }
                    });
                    clients.add(t);
                    t.start();
                }
                while (acknowledged.get() < 2_000) {
                    Thread.onSpinWait();
                }
                // SIGTERM while the clients keep posting. Through the handle: Process.destroy() would also close our end
                // of the child's stdout, and its last log lines with it.
                process.toHandle().destroy();
                assertThat(process.waitFor(90, TimeUnit.SECONDS)).isTrue();
                for (Thread t : clients) {
                    t.join();
                }
                reader.join(10_000); // the log's last lines
                assertThat(process.exitValue()).as("exit status; log: %s", output).isZero();
                assertThat(database.queryLong("SELECT count(*) FROM events")).isEqualTo(acknowledged.get());
                assertThat(database.queryLong("SELECT coalesce(sum(clicks), 0) FROM hourly_stats"))
                        .isEqualTo(acknowledged.get());
                synchronized (output) {
                    assertThat(output).anyMatch(line -> line.contains("none lost"));
                }
            } finally {
                process.destroyForcibly();
            }
        }
    }

    private static void awaitReady(HttpClient http, int port) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
            if (ready.statusCode() == 200) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("not ready within 60 s");
    }
}
