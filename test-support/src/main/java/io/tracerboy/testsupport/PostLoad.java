package io.tracerboy.testsupport;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * Concurrent clients posting single events to a {@link JarProcess}, each until an answer other than 204 or a failure
 * (the server went away); it records the request numbers answered 204, which {@link #awaitClients()} answers.
 */
public final class PostLoad {
    private final List<Thread> threads = new ArrayList<>();
    private final List<Integer> acknowledged = new ArrayList<>();
    private final AtomicLong count = new AtomicLong();
    private final AtomicBoolean running = new AtomicBoolean(true);

    private PostLoad(JarProcess jar, int clients, IntFunction<String> query) {
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread t = new Thread(() -> {
                for (int i = 0; running.get(); i++) {
                    int n = client * 10_000_000 + i;
                    try {
                        HttpResponse<Void> response = jar.http.send(HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + jar.port() + "/analytics?" + query.apply(n)))
                                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(60))
                                .build(), HttpResponse.BodyHandlers.discarding());
                        if (response.statusCode() != 204) {
                            return;
                        }
                        synchronized (acknowledged) {
                            acknowledged.add(n);
                        }
                        count.incrementAndGet();
                    } catch (Exception stopped) {
                        return;
                    }
                }
            });
            threads.add(t);
            t.start();
        }
    }

    /**
     * Starts {@code clients} threads posting to {@code jar} until a failure; {@code query} makes the query of request
     * number {@code n} (unique across clients). Each 204 is recorded.
     */
    public static PostLoad start(JarProcess jar, int clients, IntFunction<String> query) {
        return new PostLoad(jar, clients, query);
    }

    /** Waits until at least {@code n} requests were acknowledged. */
    public void awaitAcknowledged(long n) {
        while (count.get() < n) {
            if (threads.stream().noneMatch(Thread::isAlive)) {
                throw new AssertionError("the clients stopped after " + count.get() + " acknowledgements");
            }
            LockSupport.parkNanos(1_000_000); // not a busy spin: the clients need the cores
        }
    }

    /** Waits for every client to stop by itself (the server went away) and answers the acknowledged numbers. */
    public List<Integer> awaitClients() throws InterruptedException {
        for (Thread t : threads) {
            t.join(120_000);
        }
        running.set(false);
        synchronized (acknowledged) {
            return List.copyOf(acknowledged);
        }
    }
}
