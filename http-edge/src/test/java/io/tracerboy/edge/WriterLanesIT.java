package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.batch;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.Reconciler;
import io.tracerboy.testsupport.TcpProxy;
import io.tracerboy.testsupport.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * WRITER_LANES=3 on a real server and PostgreSQL: concurrent clients send batches over three hours, with per-event ids
 * resent, keyed requests resent and plain events, while the database connections are reset under the lanes; every hour
 * then reads exactly what was sent, through GET, in the aggregates and recounted from the raw events.
 */
class WriterLanesIT {
    private static final String NDJSON = "application/x-ndjson";
    private static final long NOW_HOUR_MS = Hours.startMs(System.currentTimeMillis());
    private static final long[] HOURS = {NOW_HOUR_MS - 2 * Hours.HOUR_MS, NOW_HOUR_MS - Hours.HOUR_MS, NOW_HOUR_MS};

    /** What one client sent, as the hours should count it. */
    private static final class Sent {
        final List<Set<String>> users = new ArrayList<>();
        final long[] clicks = new long[HOURS.length];
        final long[] impressions = new long[HOURS.length];

        Sent() {
            for (long ignored : HOURS) {
                users.add(new HashSet<>());
            }
        }
    }

    /** A body of 200 events of 300 users over the three hours (not later than now); counted into {@code sent}. */
    private static String body(SplittableRandom random, String idPrefix, Sent sent) {
        StringBuilder body = new StringBuilder();
        long nowMs = System.currentTimeMillis();
        for (int i = 0; i < 200; i++) {
            int hour = random.nextInt(HOURS.length);
            long ts = Math.min(HOURS[hour] + random.nextLong(Hours.HOUR_MS), nowMs);
            String user = "user-" + random.nextInt(300);
            boolean click = random.nextInt(4) == 0;
            sent.users.get(hour).add(user);
            if (click) {
                sent.clicks[hour]++;
            } else {
                sent.impressions[hour]++;
            }
            body.append("{\"timestamp\":").append(ts).append(",\"user\":\"").append(user).append("\",\"event\":\"")
                    .append(click ? "click" : "impression").append('"');
            if (idPrefix != null) {
                body.append(",\"id\":\"").append(idPrefix).append('-').append(i).append('"');
            }
            body.append("}\n");
        }
        return body.toString();
    }

    /** Sends the batch until it is accepted, resending on a 503 as the README tells a client to. */
    private static void send(TracerboyServer server, byte[] body, String... headers) throws Exception {
        HttpResponse<String> answer = batch(server, NDJSON, body, headers);
        for (int attempt = 0; answer.statusCode() == 503 && attempt < 20; attempt++) {
            answer = batch(server, NDJSON, body, headers); // e.g. the key's lookup met a reset connection
        }
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    }

    /** One client: 10 rounds of three kinds of batch, the id'd and keyed ones sent twice; then {@code afterRound}. */
    private static Sent client(TracerboyServer server, int client, Runnable afterRound) throws Exception {
        SplittableRandom random = new SplittableRandom(client);
        Sent sent = new Sent();
        for (int round = 0; round < 10; round++) {
            byte[] plain = body(random, null, sent).getBytes(StandardCharsets.UTF_8);
            send(server, plain);
            byte[] withIds = body(random, "c" + client + "-r" + round, sent).getBytes(StandardCharsets.UTF_8);
            send(server, withIds);
            send(server, withIds); // every event a resend: acknowledged, not counted
            byte[] keyed = body(random, null, sent).getBytes(StandardCharsets.UTF_8);
            String key = "\"c" + client + "-k" + round + "\"";
            send(server, keyed, "Idempotency-Key", key);
            send(server, keyed, "Idempotency-Key", key); // the original's answer, nothing written
            afterRound.run();
        }
        return sent;
    }

    @Test
    void threeLanesCountEveryHourExactlyThroughResendsKeysAndResetConnections() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             TcpProxy proxy = new TcpProxy(database.url())) {
            TracerboyServer server = startServer(proxy.proxiedUrl(database.url()), Map.of("WRITER_LANES", "3",
                    "ACK_MODE", "committed", "FLUSH_INTERVAL_MS", "5"));
            ExecutorService clients = Executors.newFixedThreadPool(4);
            try {
                assertThat(server.awaitReady(60_000)).isTrue();
                List<Future<Sent>> running = new ArrayList<>();
                AtomicInteger resets = new AtomicInteger();
                for (int client = 0; client < 4; client++) {
                    int id = client;
                    // Client 0 resets the lanes' connections after each of its rounds: mid-COPY, mid-COMMIT or idle.
                    Runnable afterRound = id > 0 ? () -> { } : () -> {
                        proxy.dropAll();
                        resets.incrementAndGet();
                    };
                    running.add(clients.submit(() -> client(server, id, afterRound)));
                }
                Sent all = new Sent();
                for (Future<Sent> client : running) {
                    Sent sent = client.get();
                    for (int h = 0; h < HOURS.length; h++) {
                        all.users.get(h).addAll(sent.users.get(h));
                        all.clicks[h] += sent.clicks[h];
                        all.impressions[h] += sent.impressions[h];
                    }
                }
                assertThat(resets.get()).as("connections reset under the lanes").isEqualTo(10);
                try (Connection connection = DriverManager.getConnection(database.url())) {
                    for (int h = 0; h < HOURS.length; h++) {
                        Reconciler.Counts expected = new Reconciler.Counts(all.users.get(h).size(), all.clicks[h],
                                all.impressions[h]);
                        String base = "http://127.0.0.1:" + server.port();
                        long hourMs = HOURS[h];
                        // Right after the last reset a GET may meet a dead pooled connection or the probe's last
                        // check: it answers 503, and a client asks again, as this does.
                        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() -> assertThat(
                                Reconciler.viaGet(base, hourMs)).isEqualTo(expected));
                        assertThat(Reconciler.aggregates(connection, HOURS[h])).as("hourly_stats, hour %d", h)
                                .isEqualTo(expected);
                        assertThat(Reconciler.recount(connection, HOURS[h])).as("events, hour %d", h)
                                .isEqualTo(expected);
                    }
                }
            } finally {
                clients.shutdownNow();
                server.close();
            }
        }
    }
}
