package io.tracerboy.bench;

import io.tracerboy.edge.TracerboyConfig;
import io.tracerboy.edge.TracerboyServer;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.EmbeddedDatabase;
import io.tracerboy.testsupport.Reconciler;
import io.tracerboy.testsupport.TcpProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.locks.LockSupport;

/**
 * A database outage under steady load, for real: tracerboy (in this JVM) writes to PostgreSQL through a TCP proxy;
 * POSTs arrive at a fixed rate; the proxy refuses and resets connections for the outage, then lets them through again.
 * Reports what was acknowledged during the outage, the ring's peak depth, the 503s, how long the backlog took to drain,
 * and reconciles rows against 204s.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar io.tracerboy.bench.OutageBenchmark [rate/s] [outage s] [ring]}
 */
public final class OutageBenchmark {
    private static final int CLIENTS = 16;
    private OutageBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        int outageSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        String ring = args.length > 2 ? args[2] : "262144";
        String url = System.getenv("DATABASE_URL");
        EmbeddedDatabase embedded = null;
        if (url == null) {
            embedded = EmbeddedDatabase.start(Files.createTempDirectory("tracerboy-outage"));
            url = embedded.jdbcUrl();
        }
        // A whole past hour inside the retention (older events are refused), one of 148 so that runs on one
        // DATABASE_URL seldom share an hour; events are dated up to an hour after its start.
        long hour = Hours.startMs(System.currentTimeMillis()) - (2 + Math.floorMod(System.nanoTime(), 148))
                * Hours.HOUR_MS;
        try (TcpProxy proxy = new TcpProxy(url);
             TracerboyServer server = TracerboyServer.start(TracerboyConfig.load(new String[0], new Properties(),
                     Map.of("DATABASE_URL", proxy.proxiedUrl(url), "PORT", "0", "BIND_ADDRESS", "127.0.0.1",
                             "RING_SIZE", ring)))) {
            server.awaitReady(60_000);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            AtomicLong acknowledged = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            AtomicLong sequence = new AtomicLong();
            LongAccumulator peakDepth = new LongAccumulator(Math::max, 0);
            AtomicBoolean running = new AtomicBoolean(true);
            // CLIENTS keep-alive connections, each paced to rate / CLIENTS requests per second.
            long intervalNanos = TimeUnit.SECONDS.toNanos(CLIENTS) / rate;
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                Thread client = new Thread(() -> {
                    long next = System.nanoTime();
                    while (running.get()) {
                        long n = sequence.incrementAndGet();
                        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                                + "/analytics?timestamp=" + (hour + n % Hours.HOUR_MS) + "&user=u" + n % 100_000
                                + "&event=" + (n % 10 == 0 ? "click" : "impression")))
                                .POST(HttpRequest.BodyPublishers.noBody()).build();
                        try {
                            int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
                            (status == 204 ? acknowledged : refused).incrementAndGet();
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                        peakDepth.accumulate(server.ringDepth());
                        next += intervalNanos;
                        LockSupport.parkNanos(next - System.nanoTime());
                    }
                });
                clients.add(client);
                client.start();
            }

            Thread.sleep(5_000);
            long beforeOutage = acknowledged.get();
            proxy.refuse();
            proxy.dropAll();
            long outageStart = System.nanoTime();
            long firstRefusalMs = -1;
            while (System.nanoTime() - outageStart < TimeUnit.SECONDS.toNanos(outageSeconds)) {
                if (firstRefusalMs < 0 && refused.get() > 0) {
                    firstRefusalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - outageStart);
                }
                Thread.sleep(10);
            }
            long duringOutage = acknowledged.get() - beforeOutage;
            long refusedDuringOutage = refused.get();
            long depthAtRecovery = server.ringDepth();
            proxy.restore();
            long recovery = System.nanoTime();
            while (server.stats().writesFailing() || server.ringDepth() > rate / 10) {
                peakDepth.accumulate(server.ringDepth());
                Thread.sleep(5);
            }
            long drainMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - recovery);
            Thread.sleep(2_000);
            running.set(false);
            for (Thread client : clients) {
                client.join();
            }
            server.stop();
            long rows;
            try (Connection connection = DriverManager.getConnection(url)) {
                Reconciler.Counts aggregates = Reconciler.aggregates(connection, hour);
                Reconciler.Counts recount = Reconciler.recount(connection, hour);
                if (!aggregates.equals(recount)) {
                    System.out.println("MISMATCH: hourly_stats " + aggregates + ", recount " + recount);
                    System.exit(1);
                }
                rows = recount.events();
            }
            System.out.printf("offered rate:                      %d POST/s for 5 s + %d s outage + drain + 2 s%n",
                    rate, outageSeconds);
            System.out.printf("ring:                              %s slots%n", ring);
            System.out.printf("acknowledged during the outage:    %d (%.1f s of traffic)%n", duringOutage,
                    duringOutage / (double) rate);
            System.out.printf("503 during the outage:             %d (first after %s)%n", refusedDuringOutage,
                    firstRefusalMs < 0 ? "never" : firstRefusalMs + " ms");
            System.out.printf("ring depth at recovery / peak:     %d / %d%n", depthAtRecovery, peakDepth.get());
            System.out.printf("backlog drained in:                %d ms after the database returned%n", drainMs);
            System.out.printf("204s / events stored / failed:     %d / %d / %d%n", acknowledged.get(), rows,
                    failed.get());
            // A request whose answer the client never got ("failed") may still have been accepted and stored.
            boolean reconciled = rows >= acknowledged.get() && rows <= acknowledged.get() + failed.get();
            System.out.println(reconciled ? "reconciled: every 204 is a stored event (" + (rows - acknowledged.get())
                    + " more stored from requests whose answer the client did not receive)"
                    : "MISMATCH: " + (acknowledged.get() - rows) + " acknowledged events not stored");
            if (!reconciled) {
                System.exit(1);
            }
        } finally {
            if (embedded != null) {
                embedded.close();
            }
        }
        System.exit(0);
    }
}
