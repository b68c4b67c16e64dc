package io.tracerboy.bench;

import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.TcpProxy;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The storm's {@link Storm#REPLICAS} replicas: for each, its {@link TcpProxy} to the database and its slot, which holds
 * the incarnation serving now and every earlier one (a restart is a new jar process with a log of its own). Starts and
 * restarts them with the storm's settings, picks one for a client, scrapes {@code /metrics}, waits for them to drain,
 * and at the end stops them and keeps their logs.
 */
final class StormReplicas {
    private static final Pattern METRIC = Pattern.compile("(?m)^(tracerboy_[a-z_]+(?:\\{[^}]*})?) (\\S+)$");

    private final boolean committed;
    private final Path work;
    private final PrintStream out;
    private final Supplier<String> elapsed;
    private final HttpClient http;
    private final StormDatabase database;
    private final List<String> problems;
    private final TcpProxy[] proxies = new TcpProxy[Storm.REPLICAS];
    private final Replica[] replicas = new Replica[Storm.REPLICAS];

    /** One running incarnation of a replica, and what the clients saw it acknowledge. */
    static final class Incarnation {
        final JarProcess process;
        final String base;
        final AtomicLong acknowledged = new AtomicLong();

        Incarnation(JarProcess process) {
            this.process = process;
            this.base = "http://127.0.0.1:" + process.port();
        }
    }

    /** A replica slot: the incarnation serving now (null while restarting), and a lock so faults do not overlap. */
    static final class Replica {
        volatile Incarnation current;
        final ReentrantLock lock = new ReentrantLock();
        final List<Incarnation> all = Collections.synchronizedList(new ArrayList<>());
    }

    StormReplicas(boolean committed, Path work, PrintStream out, Supplier<String> elapsed, HttpClient http,
            StormDatabase database, List<String> problems) {
        this.committed = committed;
        this.work = work;
        this.out = out;
        this.elapsed = elapsed;
        this.http = http;
        this.database = database;
        this.problems = problems;
    }

    /** Starts every replica, each behind a new proxy to the database, and waits until each is ready. */
    void startAll() throws Exception {
        for (int i = 0; i < Storm.REPLICAS; i++) {
            proxies[i] = new TcpProxy("127.0.0.1", database.port());
            replicas[i] = new Replica();
            replicas[i].current = start(i, true);
        }
    }

    /** Starts a new incarnation of replica {@code i} (recorded in its slot, not yet serving) and answers it. */
    Incarnation start(int i, boolean awaitReady) throws Exception {
        out.printf("storm: %s starting replica %d%n", elapsed.get(), i);
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", proxies[i].proxiedUrl(database.jdbcUrl()));
        env.put("ACK_MODE", committed ? "committed" : "buffered");
        env.put("RING_SIZE", "256"); // small, so a stalled database fills it
        env.put("BATCH_SIZE", "200");
        env.put("SHUTDOWN_TIMEOUT_MS", "30000");
        env.put("LOG_FORMAT", "text");
        // Short retention: events of the last StormLoad.PAST_HOURS hours stay inside it, every older day goes
        // (RETENTION).
        env.put("EVENT_RETENTION_HOURS", Integer.toString(Storm.STORM_RETENTION.eventHours()));
        env.put("USER_RETENTION_HOURS", Integer.toString(Storm.STORM_RETENTION.userHours()));
        Incarnation incarnation = new Incarnation(new JarProcess(env, awaitReady));
        replicas[i].all.add(incarnation);
        out.printf("storm: %s replica %d listening at %s%n", elapsed.get(), i, incarnation.base);
        return incarnation;
    }

    /** Replica {@code i}'s slot. */
    Replica replica(int i) {
        return replicas[i];
    }

    /** Replica {@code i}'s proxy to the database, through which its connections can be cut. */
    TcpProxy proxy(int i) {
        return proxies[i];
    }

    /** A replica serving now, picked at random; null when a few tries found each restarting. */
    Incarnation anyReplica(Random random) {
        for (int tries = 0; tries < Storm.REPLICAS * 4; tries++) {
            Incarnation incarnation = replicas[random.nextInt(Storm.REPLICAS)].current;
            if (incarnation != null) {
                return incarnation;
            }
        }
        return null;
    }

    /** How many incarnations the replicas had in all, restarts included. */
    int incarnations() {
        return Arrays.stream(replicas).mapToInt(r -> r.all.size()).sum();
    }

    /** Every replica running with nothing left to write. */
    void settle() throws Exception {
        for (int i = 0; i < Storm.REPLICAS; i++) {
            proxies[i].restore();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (Replica replica : replicas) {
            while (true) {
                Map<String, Double> m = metrics(replica.current);
                if (m != null && m.getOrDefault("tracerboy_ring_depth_events", 1.0) == 0
                        && m.getOrDefault("tracerboy_oldest_unwritten_event_age_seconds", 1.0) == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    problems.add("a replica did not drain within 120 s: " + m);
                    break;
                }
                Storm.pause(100);
            }
        }
    }

    /** An incarnation's {@code tracerboy_*} metrics, labels summed away; null when it does not answer. */
    Map<String, Double> metrics(Incarnation incarnation) {
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create(incarnation.base + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Double> values = new HashMap<>();
            Matcher m = METRIC.matcher(body);
            while (m.find()) {
                values.merge(m.group(1).replaceAll("\\{.*", ""), Double.parseDouble(m.group(2)), Double::sum);
            }
            return values;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    /** Kills every incarnation still running and writes each one's log into the work directory. */
    void closeAndKeepLogs() throws IOException {
        for (int i = 0; i < Storm.REPLICAS; i++) {
            Replica replica = replicas[i];
            if (replica == null) {
                continue;
            }
            if (replica.current != null) {
                replica.current.process.close();
            }
            for (int n = 0; n < replica.all.size(); n++) { // the logs, for a failure's post-mortem
                Files.write(work.resolve("replica-" + i + "-" + n + ".log"), replica.all.get(n).process.output());
            }
        }
    }

    /** Closes every proxy opened. */
    void closeProxies() throws IOException {
        for (TcpProxy proxy : proxies) {
            if (proxy != null) {
                proxy.close();
            }
        }
    }
}
