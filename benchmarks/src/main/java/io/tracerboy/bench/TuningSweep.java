package io.tracerboy.bench;

import io.tracerboy.edge.TracerboyConfig;
import io.tracerboy.edge.TracerboyServer;
import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.EmbeddedDatabase;
import io.tracerboy.testsupport.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The tuning sweep behind docs/TUNING.md: for each load profile (steady, bursts) and each pair of batch size and flush
 * interval, runs tracerboy (in this JVM, on a fresh database of one embedded PostgreSQL) under a paced wrk load and
 * measures sustained events/s, POST latency p50/p99 (wrk), visibility lag p50/p99 (a probe that POSTs a marker and
 * polls GET until it shows) and commits/s. Writes docs/tuning-results.md and docs/tuning-*.png.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar io.tracerboy.bench.TuningSweep [seconds per run]} from the
 * repository root; needs wrk.
 */
public final class TuningSweep {
    private static final int[] BATCH_SIZES = {1_000, 10_000, 100_000};
    private static final int[] FLUSH_INTERVALS_MS = {10, 100, 1_000};
    private static final int CONNECTIONS = 64;
    /** Batch size and flush interval of the {@code FLUSH_INTERVAL_MS=auto} run ({@code TARGET_LAG_MS} 100). */
    private static final int AUTO = -1;
    private static final int TARGET_LAG_MS = 100;
    /**
     * Whole past hours inside the retention (events older than EVENT_RETENTION_HOURS are refused with a 400): wrk's
     * load in one (dated up to an hour after its start), its warm-up in the hour before, the lag probe's markers in an
     * hour of their own. Each run has a database of its own, so runs share them.
     */
    private static final long LOAD_HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 2 * Hours.HOUR_MS;
    private static final long PROBE_HOUR_START_MS = LOAD_HOUR_START_MS - 2 * Hours.HOUR_MS;

    private record Result(String load, int batchSize, int flushMs, double eventsPerSecond, double postP50Ms,
                          double postP99Ms, double lagP50Ms, double lagP99Ms, double commitsPerSecond) {
    }

    private TuningSweep() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        Path docs = Path.of("docs");
        Files.createDirectories(docs);
        List<Result> results = new ArrayList<>();
        try (EmbeddedDatabase embedded = EmbeddedDatabase.start(Files.createTempDirectory("tracerboy-sweep"))) {
            for (String load : List.of("steady", "bursts")) {
                for (int batchSize : BATCH_SIZES) {
                    for (int flushMs : FLUSH_INTERVALS_MS) {
                        Result result = measure(embedded.jdbcUrl(), load, batchSize, flushMs, seconds);
                        System.out.println(result);
                        results.add(result);
                    }
                }
                Result auto = measure(embedded.jdbcUrl(), load, AUTO, AUTO, seconds);
                System.out.println(auto);
                results.add(auto);
            }
        }
        Files.writeString(docs.resolve("tuning-results.md"), table(results, seconds), StandardCharsets.UTF_8);
        chart(results, "steady", "p99 visibility lag, steady load", "visibility lag p99 (ms)", Result::lagP99Ms,
                docs.resolve("tuning-visibility-lag.png"));
        chart(results, "steady", "commits per second, steady load", "commits/s", Result::commitsPerSecond,
                docs.resolve("tuning-commits.png"));
        chart(results, "bursts", "p99 POST latency, bursts", "POST latency p99 (ms)", Result::postP99Ms,
                docs.resolve("tuning-post-latency-bursts.png"));
        tradeOffChart(results, docs.resolve("tuning-auto.png"));
        System.out.println("wrote docs/tuning-results.md and docs/tuning-*.png");
        System.exit(0);
    }

    private static Result measure(String adminUrl, String load, int batchSize, int flushMs, int seconds)
            throws Exception {
        String url = TestDatabase.create(adminUrl).url(); // fresh per run; dropped with the embedded server
        long hourMs = LOAD_HOUR_START_MS;
        try (TracerboyServer server = TracerboyServer.start(TracerboyConfig.load(new String[0], new Properties(),
                Map.of("DATABASE_URL", url, "PORT", "0", "BIND_ADDRESS", "127.0.0.1",
                        "BATCH_SIZE", Integer.toString(batchSize == AUTO ? 10_000 : batchSize), "FLUSH_INTERVAL_MS",
                        flushMs == AUTO ? "auto" : Integer.toString(flushMs),
                        "TARGET_LAG_MS", Integer.toString(TARGET_LAG_MS))))) {
            server.awaitReady(60_000);
            String base = "http://127.0.0.1:" + server.port();
            wrk(base, load, hourMs - Hours.HOUR_MS, 2); // warm-up, in another hour
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<Double> lags = Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean probing = new AtomicBoolean(true);
            Thread probe = new Thread(() -> probe(http, base, lags, probing));
            long batchesBefore = server.stats().batchesWritten();
            long rowsBefore = server.stats().rowsWritten();
            long start = System.nanoTime();
            probe.start();
            Map<String, String> wrk = wrk(base, load, hourMs, seconds);
            probing.set(false);
            probe.join();
            double elapsed = (System.nanoTime() - start) / 1e9;
            double commits = (server.stats().batchesWritten() - batchesBefore) / elapsed;
            double rows = (server.stats().rowsWritten() - rowsBefore) / elapsed;
            List<Double> sorted = new ArrayList<>(lags);
            Collections.sort(sorted);
            // Refused events or markers would otherwise be charted as figures (a marker's wait ends at 10 s).
            if (rows == 0 || sorted.isEmpty() || sorted.get(sorted.size() - 1) >= 10_000) {
                throw new IllegalStateException(load + " " + batchSize + "/" + flushMs + ": " + Math.round(rows)
                        + " events/s written, " + sorted.size() + " lag probes, the longest "
                        + (sorted.isEmpty() ? "-" : Math.round(sorted.get(sorted.size() - 1))) + " ms: refused?");
            }
            return new Result(load, batchSize, flushMs, Math.round(rows), Double.parseDouble(wrk.get(
                    "TB_P50_US")) / 1000,
                    Double.parseDouble(wrk.get("TB_P99_US")) / 1000, percentile(sorted, 50), percentile(sorted, 99),
                    commits);
        }
    }

    /** POSTs one marker event every 50 ms into the probe hour and polls GET until it is counted. */
    private static void probe(HttpClient http, String base, List<Double> lags, AtomicBoolean probing) {
        long markers = 0;
        try {
            long counted = uniqueUsers(http, base);
            while (probing.get()) {
                markers++;
                String user = "probe-" + System.nanoTime();
                send(http, "POST", base + "/analytics?timestamp=" + PROBE_HOUR_START_MS + "&user=" + user
                        + "&event=click");
                long acknowledged = System.nanoTime();
                long deadline = acknowledged + TimeUnit.SECONDS.toNanos(10);
                while (uniqueUsers(http, base) < counted + 1 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                lags.add((System.nanoTime() - acknowledged) / 1e6);
                counted++;
                Thread.sleep(50);
            }
        } catch (Exception e) {
            throw new IllegalStateException("probe failed after " + markers + " markers", e);
        }
    }

    private static long uniqueUsers(HttpClient http, String base) throws Exception {
        String body = send(http, "GET", base + "/analytics?timestamp=" + PROBE_HOUR_START_MS);
        return Long.parseLong(body.lines().findFirst().orElseThrow().substring("unique_users,".length()));
    }

    private static String send(HttpClient http, String method, String uri) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(uri)).method(method, HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static Map<String, String> wrk(String base, String load, long hourMs, int seconds)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("wrk", "-t1", "-c" + CONNECTIONS, "-d" + seconds + "s", "--latency",
                "-s", "benchmarks/wrk/paced-events.lua", base).redirectErrorStream(true);
        builder.environment().put("HOUR_MS", Long.toString(hourMs));
        // steady: 64 connections, each one request per 3 ms (plus its latency): ~16 000/s measured here;
        // bursts: one request per 13 ms (~4 500/s), and full speed for 3 s of every 10 s
        builder.environment().put("DELAY_MS", load.equals("steady") ? "3" : "13");
        builder.environment().put("BURST", load.equals("bursts") ? "1" : "0");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor();
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 2 && parts[0].startsWith("TB_")) {
                values.put(parts[0], parts[1]);
            }
        }
        if (!values.containsKey("TB_P99_US")) {
            throw new IllegalStateException("wrk failed: " + output);
        }
        return values;
    }

    private static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static String table(List<Result> results, int seconds) {
        StringBuilder out = new StringBuilder("<!-- generated by io.tracerboy.bench.TuningSweep " + seconds
                + " s per run; do not edit by hand -->\n");
        for (String load : List.of("steady", "bursts")) {
            out.append("\n### ").append(load.equals("steady") ? "Steady load (64 connections, one POST per 3 ms each)"
                    : "Bursts (~4 500 POST/s, full speed for 3 s of every 10)").append("\n\n");
            out.append("| batch size | flush interval | events/s | POST p50 | POST p99 | visibility lag p50 | "
                    + "visibility lag p99 | commits/s |\n|---|---|---|---|---|---|---|---|\n");
            for (Result r : results) {
                if (r.load().equals(load) && r.batchSize() == AUTO) {
                    out.append(String.format("| auto | auto (TARGET_LAG_MS %d) | %,.0f | %.2f ms | %.2f ms | %.0f ms "
                            + "| %.0f ms | %.1f |%n", TARGET_LAG_MS, r.eventsPerSecond(), r.postP50Ms(), r.postP99Ms(),
                            r.lagP50Ms(), r.lagP99Ms(), r.commitsPerSecond()));
                } else if (r.load().equals(load)) {
                    out.append(String.format("| %,d | %d ms | %,.0f | %.2f ms | %.2f ms | %.0f ms | %.0f ms | %.1f |%n",
                            r.batchSize(), r.flushMs(), r.eventsPerSecond(), r.postP50Ms(), r.postP99Ms(),
                            r.lagP50Ms(), r.lagP99Ms(), r.commitsPerSecond()));
                }
            }
        }
        return out.toString();
    }

    private static void chart(List<Result> results, String load, String title, String yLabel,
                              java.util.function.ToDoubleFunction<Result> value, Path file) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (int batchSize : BATCH_SIZES) {
            XYSeries series = new XYSeries(String.format("BATCH_SIZE %,d", batchSize));
            for (Result r : results) {
                if (r.load().equals(load) && r.batchSize() == batchSize) {
                    series.add(r.flushMs(), value.applyAsDouble(r));
                }
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(title, "FLUSH_INTERVAL_MS", yLabel, data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.getXYPlot().setDomainAxis(logAxis("FLUSH_INTERVAL_MS (log scale)"));
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 800, 450);
    }

    private static LogarithmicAxis logAxis(String label) {
        LogarithmicAxis axis = new LogarithmicAxis(label);
        axis.setExpTickLabelsFlag(false);
        axis.setStrictValuesFlag(false);
        return axis;
    }

    /** Every setting as a point (commits/s, lag p99), one series per profile and kind, the target as a line. */
    private static void tradeOffChart(List<Result> results, Path file) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (String load : List.of("steady", "bursts")) {
            XYSeries fixed = new XYSeries(load + ": fixed settings");
            XYSeries auto = new XYSeries(load + ": auto");
            for (Result r : results) {
                if (r.load().equals(load)) {
                    (r.batchSize() == AUTO ? auto : fixed).add(r.commitsPerSecond(), r.lagP99Ms());
                }
            }
            data.addSeries(fixed);
            data.addSeries(auto);
        }
        JFreeChart chart = ChartFactory.createScatterPlot("visibility lag p99 against commits/s; auto targets "
                + TARGET_LAG_MS + " ms", "commits/s", "visibility lag p99 (ms, log scale)", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRangeAxis(logAxis("visibility lag p99 (ms, log scale)"));
        plot.addRangeMarker(new ValueMarker(TARGET_LAG_MS + 25));
        ChartUtils.saveChartAsPNG(file.toFile(), chart, 800, 450);
    }
}
