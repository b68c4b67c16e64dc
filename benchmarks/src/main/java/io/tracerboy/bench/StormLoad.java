package io.tracerboy.bench;

import io.tracerboy.ingest.Hours;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The storm's load: {@link Storm#CLIENTS} client threads, each seeded, sending single POSTs and NDJSON batches of
 * events with ids, over {@code USERS} users, in the current hour and the {@code PAST_HOURS} before, to any replica
 * serving, and resending a request unchanged until it succeeds or the load stops. It owns what decides an event (its
 * id, user and kind follow from client and sequence number), each client's log of what it sent and what was
 * acknowledged, and the count of answers by status, which the audit reads.
 */
final class StormLoad {
    private static final int USERS = 500;
    static final long PAST_HOURS = 3;

    private final long seed;
    private final Supplier<String> elapsed;
    private final HttpClient http;
    private final StormReplicas replicas;
    private final List<String> problems;
    private final long firstHourMs;
    private final AtomicBoolean loading = new AtomicBoolean(true);
    private final ClientLog[] logs = new ClientLog[Storm.CLIENTS];
    private final List<Thread> clients = new ArrayList<>();
    /** What the clients were answered, by status (-1: reset, refused or timed out). */
    private final Map<Integer, AtomicLong> answers = new ConcurrentHashMap<>();

    /** Every event a client sent: its timestamp (user and kind follow from the id); which were acknowledged. */
    static final class ClientLog {
        long[] timestamps = new long[1 << 12];
        int sent;
        final BitSet acknowledged = new BitSet();
        /** For a failure's post-mortem: per acknowledged request, its first event, who answered and when. */
        final Map<Integer, String> answeredBy = new HashMap<>();
    }

    StormLoad(long seed, Supplier<String> elapsed, HttpClient http, StormReplicas replicas, List<String> problems) {
        this.seed = seed;
        this.elapsed = elapsed;
        this.http = http;
        this.replicas = replicas;
        this.problems = problems;
        this.firstHourMs = Hours.startMs(System.currentTimeMillis()) - PAST_HOURS * Hours.HOUR_MS;
    }

    /** The id of event number {@code seq} of client {@code client}. */
    static String eventId(int client, int seq) {
        return "c" + client + "-" + seq;
    }

    /** The user of that event (its user id is {@code "u"} and this number), spread over the users. */
    static int user(int client, int seq) {
        return (int) Math.floorMod((client * 1_000_003L + seq) * 2_654_435_761L, (long) USERS);
    }

    /** Whether that event is a click (one in ten) rather than an impression. */
    static boolean click(int client, int seq) {
        return Math.floorMod((client * 7_919L + seq) * 40_503L, 10L) == 0;
    }

    /** Starts the client threads. */
    void start() {
        for (int c = 0; c < Storm.CLIENTS; c++) {
            logs[c] = new ClientLog();
            int client = c;
            Thread t = new Thread(() -> client(client), "storm-client-" + c);
            clients.add(t);
            t.start();
        }
    }

    /** Whether the load still runs: until {@link #stop()}. */
    boolean loading() {
        return loading.get();
    }

    /** Tells the clients to stop and waits until they have: a request unanswered by then is given up. */
    void stop() throws InterruptedException {
        loading.set(false);
        for (Thread t : clients) {
            t.join();
        }
    }

    /** What client {@code client} sent and was acknowledged; read once the load has stopped. */
    ClientLog log(int client) {
        return logs[client];
    }

    /** The answers the clients got, by status. */
    Map<Integer, AtomicLong> answers() {
        return answers;
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
                    log.timestamps = Arrays.copyOf(log.timestamps, log.timestamps.length * 2);
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
                StormReplicas.Incarnation target = replicas.anyReplica(random);
                if (target == null) {
                    Storm.pause(100);
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
                        log.answeredBy.put(first, target.base + " " + status + " at " + elapsed.get() + " ("
                                + events + " events, " + (batch ? "batch" : "single") + ")");
                    }
                    target.acknowledged.addAndGet(events);
                    break;
                }
                if (status == 400) {
                    problems.add("client " + client + ": a valid request was refused 400");
                    return;
                }
                Storm.pause(50 + random.nextInt(150)); // 503/504/reset: back off a little, then resend unchanged
            }
        }
    }
}
