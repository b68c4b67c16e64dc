package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.http;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.tracerboy.ingest.Hours;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A full disk is a fault like any other. The database's tables live in a tablespace on a small tmpfs of their own (its
 * WAL and catalogs stay on the real disk, as an operator would put a data volume apart): once a file fills it, writes
 * fail with SQLSTATE 53100 and are retried with one log line, reads keep answering, buffered mode answers {@code 503}
 * once its ring is full, committed mode keeps its request waiting, and when space returns the backlog drains by itself
 * with nothing acknowledged lost. Needs root (to mount the tmpfs); skipped, saying so, elsewhere.
 */
class DiskFullIT {
    private static final long HOUR_MS = Hours.startMs(System.currentTimeMillis()) - Hours.HOUR_MS;

    private static byte[] events(String prefix, int n) {
        return IntStream.range(0, n).mapToObj(i -> "{\"timestamp\":" + (HOUR_MS + i % 3_600_000) + ",\"user\":\""
                + prefix + i + "\",\"event\":\"click\"}").collect(Collectors.joining("\n"))
                .getBytes(StandardCharsets.UTF_8);
    }

    private static boolean run(String... command) throws InterruptedException {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Writes zeros into {@code file} until its filesystem is full; answers the bytes written. */
    private static long fill(Path file) throws IOException {
        long written = 0;
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
                written += block.length;
            }
        } catch (IOException full) {
            return written;
        }
    }

    @Test
    void writesAreRetriedReadsAnswerTheRingFillsAndTheBacklogDrainsOnceSpaceReturns(@TempDir Path dir)
            throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")),
                "DiskFullIT skipped: mounting a small tmpfs for the database's tablespace needs root");
        Path small = Files.createDirectories(dir.resolve("small"));
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=48m", "tracerboy-disk-full", small.toString()),
                "DiskFullIT skipped: 'mount -t tmpfs' failed here (a container without CAP_SYS_ADMIN?)");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            try (Connection db = postgres.getPostgresDatabase().getConnection();
                 Statement statement = db.createStatement()) {
                statement.execute("CREATE TABLESPACE small LOCATION '" + small + "'");
                statement.execute("CREATE DATABASE full_disk TABLESPACE small");
            }
            String url = "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/full_disk?user=postgres";
            try (TracerboyServer buffered = startServer(url, Map.of("RING_SIZE", "4096", "MAX_BATCH_EVENTS", "1000"));
                 TracerboyServer committed = startServer(url, Map.of("ACK_MODE", "committed"))) {
                assertThat(buffered.awaitReady(60_000) && committed.awaitReady(60_000)).isTrue();
                assertThat(batch(buffered, "application/x-ndjson", events("before-", 1_000)).statusCode())
                        .isEqualTo(200);
                TestServers.awaitRowsWritten(buffered, 1_000);

                Path filler = small.resolve("filler");
                assertThat(fill(filler)).isPositive();
                // Batches until the tables need a page the disk has not got: the writer fails and retries.
                AtomicInteger acknowledged = new AtomicInteger(1_000);
                AtomicInteger batches = new AtomicInteger();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    if (batch(buffered, "application/x-ndjson", events("full-" + batches.incrementAndGet() + "-",
                            1_000)).statusCode() == 200) {
                        acknowledged.addAndGet(1_000);
                    }
                    return buffered.stats().writesFailing();
                });
                await().atMost(Duration.ofSeconds(30)).until(() -> log.list.stream().anyMatch(event ->
                        event.getFormattedMessage().startsWith("database writes failing, retrying with backoff")
                                && event.getFormattedMessage().contains("53100")));
                // Reads keep answering: the hour's counts as committed so far.
                HttpResponse<String> read = send(buffered, "GET", "/analytics?timestamp=" + HOUR_MS);
                assertThat(read.statusCode()).isEqualTo(200);
                assertThat(read.body()).startsWith("unique_users,");
                // Buffered: the ring fills and further batches are refused, not lost.
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    HttpResponse<String> answer = batch(buffered, "application/x-ndjson",
                            events("full-" + batches.incrementAndGet() + "-", 1_000));
                    if (answer.statusCode() == 200) {
                        acknowledged.addAndGet(1_000);
                    }
                    return answer.statusCode() == 503 && answer.body().startsWith("{\"error\":\"buffer full");
                });
                // Committed: the request waits for its commit.
                CompletableFuture<HttpResponse<String>> waiting = http.sendAsync(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + committed.port() + "/analytics?timestamp=" + HOUR_MS
                                + "&user=waiting&event=impression")).POST(HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
                await().atMost(Duration.ofSeconds(30)).until(() -> committed.stats().writesFailing());
                assertThat(waiting).isNotDone();

                Files.delete(filler); // space returns: nothing to do but wait
                assertThat(waiting.get().statusCode()).isEqualTo(204);
                await().atMost(Duration.ofSeconds(60)).until(() -> !buffered.stats().writesFailing()
                        && buffered.stats().rowsWritten() == acknowledged.get());
                String expected = "unique_users," + (acknowledged.get() + 1) + "\nclicks," + acknowledged.get()
                        + "\nimpressions,1\n";
                await().atMost(Duration.ofSeconds(10)).until(() -> send(committed, "GET", "/analytics?timestamp="
                        + HOUR_MS).body().equals(expected));
                assertThat(buffered.stats().deadLettered() + committed.stats().deadLettered()).isZero();
            }
        } finally {
            root.detachAppender(log);
            run("umount", small.toString());
        }
    }
}
