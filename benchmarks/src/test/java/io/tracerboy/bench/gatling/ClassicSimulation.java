package io.tracerboy.bench.gatling;

import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.repeat;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.tracerboy.ingest.Hours;
import java.util.Set;
import java.util.UUID;

/**
 * The classic scenario: each virtual user posts 80 clicks, then 10 rounds of 10 impressions and 10 GETs, all for the
 * current hour; 100 users ramped over 60 s. Reconciles 204s with GET (and the database with {@code -Djdbc=…}).
 *
 * <p>{@code mvn -pl benchmarks gatling:test -Dgatling.simulationClass=io.tracerboy.bench.gatling.ClassicSimulation
 * -DbaseUrl=http://127.0.0.1:9090}
 */
public class ClassicSimulation extends Simulation {
    private static final String BASE_URL = System.getProperty("baseUrl", "http://127.0.0.1:9090");
    private static final int USERS = Integer.getInteger("users", 100);
    private static final int RAMP_SECONDS = Integer.getInteger("rampSeconds", 60);

    private static ChainBuilder post(String kind) {
        int code = kind.equals("click") ? 0 : 1;
        return exec(session -> session.set("ts", System.currentTimeMillis()))
                .exec(http("POST " + kind).post("/analytics")
                        .queryParam("timestamp", "#{ts}").queryParam("user", "#{user}").queryParam("event", kind)
                        .check(status().saveAs("status"), status().is(204)))
                .exec(session -> {
                    if (session.contains("status") && session.getInt("status") == 204) {
                        Reconciliation.acknowledged(session.getLong("ts"), code);
                    }
                    return session;
                });
    }

    private final ScenarioBuilder classic = scenario("classic")
            .exec(session -> session.set("user", "classic-" + UUID.randomUUID()))
            .repeat(80).on(post("click"))
            .repeat(10).on(
                    repeat(10).on(post("impression")),
                    repeat(10).on(exec(http("GET current hour").get("/analytics").check(status().is(200)))));

    {
        setUp(classic.injectOpen(rampUsers(USERS).during(RAMP_SECONDS)))
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
