package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.testsupport.JarProcess;
import io.tracerboy.testsupport.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the real jar logs: one startup line with the configuration, secrets masked; text or JSON lines. */
class LoggingIT {
    @Test
    void jsonLogsAreOneObjectPerLineAndMaskThePassword() throws Exception {
        try (TestDatabase database = TestDatabase.create()) {
            // The URL's own password when it has one; otherwise one the (trust-authenticated) embedded server ignores.
            java.util.regex.Matcher given = java.util.regex.Pattern.compile("password=([^&]+)").matcher(database.url());
            String secret = given.find() ? given.group(1) : "hunter2";
            String url = given.find(0) ? database.url() : database.url() + "&password=" + secret;
            jsonLogs(url, secret);
        }
    }

    private static void jsonLogs(String url, String secret) throws Exception {
        try (JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", url, "LOG_FORMAT", "json"))) {
            tracerboy.signal(false);
            assertThat(tracerboy.awaitExit()).isZero();
            List<String> lines = tracerboy.output();
            assertThat(lines).isNotEmpty().allMatch(line -> line.startsWith("{") && line.endsWith("}"),
                    "a JSON object");
            // The secret may be a common word (CI's is "tracerboy"), so look for it where it would leak.
            assertThat(lines).noneMatch(line -> line.contains("password=" + secret));
            assertThat(lines).anyMatch(line -> line.contains("configuration") && line.contains("password=****")
                    && line.contains("LOG_FORMAT=json"));
            assertThat(lines).anyMatch(line -> line.contains(
                    "storage engine: PostgreSQL: events and hourly_users partitioned by day ("));
            assertThat(lines).anyMatch(line -> line.contains("\"level\":\"INFO\"") && line.contains(
                    "\"formattedMessage\":"));
        }
    }

    @Test
    void oversizedChunkedBodiesAre413AndLogNothingOutsideTheJsonFormat() throws Exception {
        try (TestDatabase database = TestDatabase.create();
             JarProcess tracerboy = new JarProcess(Map.of("DATABASE_URL", database.url(), "LOG_FORMAT", "json",
                     "MAX_BODY_BYTES", "1024"))) {
            String small = ("320\r\n" + "c".repeat(800) + "\r\n").repeat(3) + "0\r\n\r\n";
            assertThat(sendChunked(tracerboy.port(), small)).startsWith("HTTP/1.1 413 ");
            // Past the drain allowance too (Undertow's own limit would print a stack trace to stderr here).
            String huge = ("EA60\r\n" + "c".repeat(60_000) + "\r\n").repeat(40) + "0\r\n\r\n";
            // Answered 413 as the drain allowance runs out while the client still sends, so the client may see the
            // reset before the answer; either way nothing is stored.
            assertThat(sendChunked(tracerboy.port(), huge)).satisfiesAnyOf(
                    reply -> assertThat(reply).isEmpty(), reply -> assertThat(reply).startsWith("HTTP/1.1 413 "));
            tracerboy.signal(false);
            assertThat(tracerboy.awaitExit()).isZero();
            assertThat(tracerboy.output()).allMatch(line -> line.startsWith("{") && line.endsWith("}"), "a JSON object")
                    .noneMatch(line -> line.contains("RequestTooBigException"));
            assertThat(database.queryLong("SELECT count(*) FROM events")).isZero();
        }
    }

    private static String sendChunked(int port, String chunkedBody) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            StringBuilder reply = new StringBuilder();
            try {
                socket.getOutputStream().write(("POST /analytics?user=chunked&event=click HTTP/1.1\r\nHost: x\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n" + chunkedBody).getBytes(StandardCharsets.US_ASCII));
                byte[] buffer = new byte[4096];
                for (int n; (n = socket.getInputStream().read(buffer)) > 0; ) {
                    reply.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                }
            } catch (java.io.IOException reset) {
                // closed by the server while we still sent: what arrived before is the answer
            }
            return reply.toString();
        }
    }

    @Test
    void aBadSettingStopsStartupWithOneLineAndNoStackTrace() throws Exception {
        ProcessBuilder builder = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin",
                "java")
                .toString(), "-jar", "target/tracerboy.jar", "--batch-size=0").redirectErrorStream(true);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor()).isEqualTo(2);
        assertThat(output).isEqualTo("--batch-size: expected an integer 1..1000000, found '0'\n");
    }

    @Test
    void helpListsTheOptionsAndExitsZero() throws Exception {
        Process process = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", "target/tracerboy.jar", "--help").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor()).isZero();
        assertThat(output).startsWith("Usage: java -jar tracerboy.jar [--option=value ...]")
                .contains("--batch-size=…", "BATCH_SIZE", "default: 10000", "--log-format=…");
    }
}
