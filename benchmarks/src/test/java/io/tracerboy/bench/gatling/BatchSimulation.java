package io.tracerboy.bench.gatling;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.tracerboy.ingest.Hours;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Batches with event ids, resent whole as a client does when it did not get (or did not trust) its answer: each virtual
 * user posts {@code batches} NDJSON bodies of {@code eventsPerBatch} events of the current hour, every event with its
 * own id, and sends {@code resendPercent} % of the bodies again, unchanged, after their answer. Reconciles exactly:
 * every acknowledged event counted once by GET (and in the database with {@code -Djdbc=…}), none twice. (The answer
 * really lost mid-flight, through a TCP proxy, is covered by {@code EventIdsIT}.)
 *
 * <p>{@code mvn -pl benchmarks gatling:test -Dgatling.simulationClass=io.tracerboy.bench.gatling.BatchSimulation
 * -DbaseUrl=http://127.0.0.1:9090 -Dusers=20 -Dbatches=20 -DeventsPerBatch=500 -DresendPercent=30}
 */
public class BatchSimulation extends Simulation {
    private static final String BASE_URL = System.getProperty("baseUrl", "http://127.0.0.1:9090");
    private static final int USERS = Integer.getInteger("users", 20);
    private static final int BATCHES = Integer.getInteger("batches", 20);
    private static final int EVENTS_PER_BATCH = Integer.getInteger("eventsPerBatch", 500);
    private static final int RESEND_PERCENT = Integer.getInteger("resendPercent", 30);
    private static final int RAMP_SECONDS = Integer.getInteger("rampSeconds", 10);

    /** Builds the body and remembers what it holds, so that the first 200 for it counts its events once. */
    private static String body(io.gatling.javaapi.core.Session session) {
        long hour = Reconciliation.hourOf(System.currentTimeMillis());
        ThreadLocalRandom random = ThreadLocalRandom.current();
        StringBuilder body = new StringBuilder();
        int clicks = 0;
        for (int i = 0; i < EVENTS_PER_BATCH; i++) {
            boolean click = random.nextInt(10) == 0;
            clicks += click ? 1 : 0;
            body.append("{\"timestamp\":").append(hour + random.nextLong(Hours.HOUR_MS)).append(",\"user\":\"batch-")
                    .append(random.nextInt(10_000)).append("\",\"event\":\"").append(click ? "click" : "impression")
                    .append("\",\"id\":\"").append(UUID.randomUUID()).append("\"}\n");
        }
        return body.toString() + "#" + hour + "#" + clicks;
    }

    private static ChainBuilder send(String name) {
        return exec(http(name).post("/analytics/batch").header("Content-Type", "application/x-ndjson")
                .body(StringBody(session -> session.getString("body")))
                .check(status().saveAs("status"), status().is(200)))
                .exec(session -> {
                    boolean ok = session.contains("status") && session.getInt("status") == 200;
                    if (ok && !session.getBoolean("counted")) {
                        for (int i = 0; i < session.getInt("clicks"); i++) {
                            Reconciliation.acknowledged(session.getLong("hour"), 0);
                        }
                        for (int i = 0; i < EVENTS_PER_BATCH - session.getInt("clicks"); i++) {
                            Reconciliation.acknowledged(session.getLong("hour"), 1);
                        }
                        return session.set("counted", true);
                    }
                    return session;
                });
    }

    private final ScenarioBuilder batches = scenario("batches with ids, some resent").repeat(BATCHES).on(
            exec(session -> {
                String[] parts = body(session).split("#");
                return session.set("body", parts[0]).set("hour", Long.parseLong(parts[1]))
                        .set("clicks", Integer.parseInt(parts[2])).set("counted", false)
                        .set("resend", ThreadLocalRandom.current().nextInt(100) < RESEND_PERCENT);
            }),
            send("POST batch"),
            doIf("#{resend}").then(send("POST the same batch again")));

    {
        Reconciliation.exact = true;
        setUp(batches.injectOpen(rampUsers(USERS).during(RAMP_SECONDS)))
                .protocols(http.baseUrl(BASE_URL).shareConnections());
    }

    @Override
    public void before() {
        long now = Reconciliation.hourOf(System.currentTimeMillis());
        Reconciliation.beforeRun(BASE_URL, Set.of(now, now + Hours.HOUR_MS));
    }

    @Override
    public void after() {
        Reconciliation.afterRun(BASE_URL);
    }
}
