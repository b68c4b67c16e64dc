package io.tracerboy.bench.gatling;

import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.percent;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.tracerboy.ingest.Hours;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Open-model bursty traffic: a target arrival rate with steady phases and bursts of {@code burstFactor}× for
 * {@code burstSeconds}, a POST/GET mix, a current/past-hour mix (default 95/5 over the last {@code pastHours} hours)
 * and a configurable user cardinality. Reconciles 204s per hour and kind with GET (and the database with
 * {@code -Djdbc=…}).
 *
 * <p>{@code mvn -pl benchmarks gatling:test -Dgatling.simulationClass=io.tracerboy.bench.gatling.BurstSimulation
 * -DbaseUrl=http://127.0.0.1:9090 -Drate=2000 -DburstFactor=10 -DburstSeconds=3 -Dcycles=3}
 */
public class BurstSimulation extends Simulation {
    private static final String BASE_URL = System.getProperty("baseUrl", "http://127.0.0.1:9090");
    private static final double RATE = Double.parseDouble(System.getProperty("rate", "1000"));
    private static final int BURST_FACTOR = Integer.getInteger("burstFactor", 10);
    private static final int STEADY_SECONDS = Integer.getInteger("steadySeconds", 10);
    private static final int BURST_SECONDS = Integer.getInteger("burstSeconds", 3);
    private static final int CYCLES = Integer.getInteger("cycles", 3);
    private static final double POST_PERCENT = Double.parseDouble(System.getProperty("postPercent", "90"));
    private static final double CURRENT_HOUR_PERCENT = Double.parseDouble(System.getProperty("currentHourPercent",
            "95"));
    private static final int PAST_HOURS = Integer.getInteger("pastHours", 24);
    private static final int USER_CARDINALITY = Integer.getInteger("userCardinality", 100_000);

    private static long eventTimestamp() {
        long now = System.currentTimeMillis();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (random.nextDouble(100) < CURRENT_HOUR_PERCENT) {
            return now;
        }
        return Reconciliation.hourOf(now) - (1 + random.nextInt(PAST_HOURS)) * Hours.HOUR_MS + random.nextLong(
                Hours.HOUR_MS);
    }

    private final ScenarioBuilder bursty = scenario("bursty")
            .randomSwitch().on(
                    percent(POST_PERCENT).then(exec(session -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        int kind = random.nextInt(10) == 0 ? 0 : 1;
                        return session.set("ts", eventTimestamp())
                                .set("user", "u" + random.nextInt(USER_CARDINALITY))
                                .set("kind", kind)
                                .set("event", kind == 0 ? "click" : "impression");
                    }).exec(http("POST").post("/analytics").queryParam("timestamp", "#{ts}")
                            .queryParam("user", "#{user}").queryParam("event", "#{event}")
                            .check(status().saveAs("status"), status().is(204)))
                            .exec(session -> {
                                if (session.contains("status") && session.getInt("status") == 204) {
                                    Reconciliation.acknowledged(session.getLong("ts"), session.getInt("kind"));
                                }
                                return session;
                            })),
                    percent(100 - POST_PERCENT).then(exec(session -> session.set("ts", eventTimestamp()))
                            .exec(http("GET").get("/analytics").queryParam("timestamp", "#{ts}")
                                    .check(status().is(200)))));

    {
        List<OpenInjectionStep> steps = new ArrayList<>();
        for (int i = 0; i < CYCLES; i++) {
            steps.add(constantUsersPerSec(RATE).during(STEADY_SECONDS));
            steps.add(constantUsersPerSec(RATE * BURST_FACTOR).during(BURST_SECONDS));
        }
        steps.add(constantUsersPerSec(RATE).during(STEADY_SECONDS));
        setUp(bursty.injectOpen(steps)).protocols(http.baseUrl(BASE_URL).shareConnections());
    }

    @Override
    public void before() {
        long now = Reconciliation.hourOf(System.currentTimeMillis());
        Set<Long> hours = new HashSet<>();
        for (int h = -PAST_HOURS; h <= 1; h++) {
            hours.add(now + h * Hours.HOUR_MS);
        }
        Reconciliation.beforeRun(BASE_URL, hours);
    }

    @Override
    public void after() {
        Reconciliation.afterRun(BASE_URL);
    }
}
