package io.tracerboy.testsupport;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/** The real {@code target/tracerboy.jar} as a child process on a free port, with its log captured. */
public final class JarProcess implements AutoCloseable {
    // JSON logs escape the slashes of the URL.
    private static final Pattern LISTENING = Pattern.compile("listening on http:\\S*?127\\.0\\.0\\.1:(\\d+)");

    private final Process process;
    private final Thread reader;
    private final List<String> output = new ArrayList<>();
    private final int port;
    public final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Starts the jar and waits until it listens and {@code /readyz} answers 200. */
    public JarProcess(Map<String, String> env) throws Exception {
        this(env, true);
    }

    /** Starts the jar and waits until it listens, and when {@code awaitReady} until {@code /readyz} answers 200. */
    public JarProcess(Map<String, String> env, boolean awaitReady) throws Exception {
        process = builder(env).start();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    synchronized (output) {
                        output.add(line);
                    }
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        listening.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (Exception ignored) {
                // the process ended
            }
            listening.complete(-1);
        });
        reader.start();
        port = listening.get(60, TimeUnit.SECONDS);
        if (port < 0) {
            throw new IllegalStateException("tracerboy did not start: " + output());
        }
        if (awaitReady) {
            awaitReady();
        }
    }

    private static ProcessBuilder builder(Map<String, String> env, String... args) {
        // http-edge's tests run from its directory; others (the storm) name the jar with -Dtracerboy.jar=….
        Path jar = Path.of(System.getProperty("tracerboy.jar", Path.of("target", "tracerboy.jar").toString()));
        if (!Files.exists(jar)) {
            throw new IllegalStateException("run 'mvn package' first: " + jar.toAbsolutePath() + " is missing");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // Only what the test gives: CI's DATABASE_URL must not turn an embedded-mode test into an external one.
        builder.environment().remove("DATABASE_URL");
        builder.environment().put("PORT", "0");
        builder.environment().put("BIND_ADDRESS", "127.0.0.1");
        builder.environment().putAll(env);
        return builder;
    }

    /** What a run of the jar that ends by itself printed, and its exit status. */
    public record Exit(int status, List<String> lines) {
    }

    /** Runs the jar until it exits by itself (at most 120 s), e.g. to see how a startup error ends it. */
    public static Exit runToExit(Map<String, String> env, String... args) throws Exception {
        Process process = builder(env, args).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "";
            }
        });
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("still running after 120 s: " + output.getNow(""));
        }
        return new Exit(process.exitValue(), output.get(10, TimeUnit.SECONDS).lines().toList());
    }

    /** Answers the readiness endpoint's status. */
    public int readyStatus() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    public int port() {
        return port;
    }

    public List<String> output() {
        synchronized (output) {
            return List.copyOf(output);
        }
    }

    private void awaitReady() {
        Awaitility.await("/readyz answering 200").atMost(Duration.ofSeconds(60))
                .failFast(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("the process exited: " + output());
                    }
                })
                .until(() -> readyStatus() == 200);
    }

    /**
     * Signals the process: SIGTERM, or SIGKILL when {@code kill}. Through the handle, which keeps our end of stdout.
     */
    public void signal(boolean kill) {
        if (kill) {
            process.toHandle().destroyForcibly();
        } else {
            process.toHandle().destroy();
        }
    }

    /** The process id, to signal it. */
    public long pid() {
        return process.pid();
    }

    /** Whether the process still runs. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Waits for the exit and the log's last lines; answers the exit status. */
    public int awaitExit() throws InterruptedException {
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            throw new AssertionError("still running after 120 s: " + output());
        }
        reader.join(10_000);
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
