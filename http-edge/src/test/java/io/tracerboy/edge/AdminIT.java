package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.admin;
import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tracerboy.testsupport.JarProcess;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The admin API: off without a token, refusing every request without the right one, changing only valid values. */
class AdminIT {
    private static final String TOKEN = "s3cret-admin-token-for-tests";
    @RegisterExtension
    static final ServerAndDatabase app = new ServerAndDatabase(Map.of("ADMIN_TOKEN", TOKEN, "BATCH_SIZE", "10000"));


    private static HttpResponse<String> change(String json) throws Exception {
        return admin(app.server(), "POST", "/admin/settings", "Bearer " + TOKEN, "application/json", json);
    }

    private static double refused(String reason) throws Exception {
        String scrape = send(app.server(), "GET", "/metrics").body();
        Matcher m = Pattern.compile("(?m)^tracerboy_admin_refused_total\\{reason=\"" + reason + "\"} (\\S+)$")
                .matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void withoutATokenConfiguredTheAdminApiDoesNotExist() throws Exception {
        try (TracerboyServer plain = startServer(app.database().url(), Map.of())) {
            assertThat(admin(plain, "GET", "/admin/settings", "Bearer " + TOKEN, null, null).statusCode())
                    .isEqualTo(404);
            assertThat(admin(plain, "POST", "/admin/settings", "Bearer " + TOKEN, "application/json",
                    "{\"BATCH_SIZE\":\"5\"}").statusCode()).isEqualTo(404);
            for (String method : List.of("HEAD", "PUT", "DELETE", "PATCH", "OPTIONS")) {
                assertThat(admin(plain, method, "/admin/settings", "Bearer " + TOKEN, null, null).statusCode())
                        .as(method).isEqualTo(404);
            }
            assertThat(plain.liveSettings().current()).containsEntry("BATCH_SIZE", "10000");
        }
    }

    @Test
    void everyRequestWithoutTheRightBearerTokenIs401ChangesNothingAndIsCounted() throws Exception {
        String body = "{\"BATCH_SIZE\":\"7\"}";
        Map<String, String> attempts = Map.of(
                "missing", "",
                "malformed", "Basic " + java.util.Base64.getEncoder().encodeToString(("admin:" + TOKEN).getBytes()),
                "empty", "Bearer ",
                "wrong", "Bearer " + TOKEN + "x");
        for (Map.Entry<String, String> attempt : attempts.entrySet()) {
            double before = refused(attempt.getKey());
            HttpResponse<String> answer = admin(app.server(), "POST", "/admin/settings",
                    attempt.getValue().isEmpty() ? null : attempt.getValue(), "application/json", body);
            assertThat(answer.statusCode()).as(attempt.getKey()).isEqualTo(401);
            assertThat(answer.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"tracerboy admin\"");
            assertThat(answer.body()).doesNotContain(TOKEN);
            assertThat(refused(attempt.getKey())).as(attempt.getKey()).isEqualTo(before + 1);
        }
        assertThat(app.server().liveSettings().current()).doesNotContainEntry("BATCH_SIZE", "7");
        String scrape = send(app.server(), "GET", "/metrics").body();
        assertThat(scrape).doesNotContain(TOKEN);
        assertThat(send(app.server(), "GET", "/status.json").body()).doesNotContain(TOKEN);
    }

    @Test
    void anyQueryStringIsRefusedBeforeTheTokenIsCheckedSoATokenInTheUrlNeverWorksUnderAnyName() throws Exception {
        String encoded = TOKEN.chars().mapToObj(c -> String.format("%%%02X", c)).reduce("", String::concat);
        List<String> queries = List.of("TOKEN=" + TOKEN, "x=" + TOKEN, "t=" + encoded, TOKEN, "x=1",
                "token=" + TOKEN, "access_token=" + TOKEN);
        for (String query : queries) {
            double before = refused("query_string");
            for (String authorization : new String[] {"Bearer " + TOKEN, null}) {
                HttpResponse<String> get = admin(app.server(), "GET", "/admin/settings?" + query, authorization,
                        null, null);
                assertThat(get.statusCode()).as("GET ?%s", query).isEqualTo(400);
                assertThat(get.body()).isEqualTo("{\"error\":\"admin: expected no query string (the token belongs in "
                        + "an Authorization: Bearer header, never in the URL), found a query string of "
                        + query.length() + " characters\"}\n");
                HttpResponse<String> post = admin(app.server(), "POST", "/admin/settings?" + query, authorization,
                        "application/json", "{\"BATCH_SIZE\":\"7\"}");
                assertThat(post.statusCode()).as("POST ?%s", query).isEqualTo(400);
            }
            assertThat(refused("query_string")).as("?%s", query).isEqualTo(before + 4);
        }
        assertThat(app.server().liveSettings().current()).containsEntry("BATCH_SIZE", "10000");
    }

    @Test
    void theRightTokenReadsAndChangesTheLiveSettingsAndABadValueChangesNothing() throws Exception {
        HttpResponse<String> read = admin(app.server(), "GET", "/admin/settings", "Bearer " + TOKEN, null, null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(read.body()).contains("\"BATCH_SIZE\":\"10000\"", "\"FLUSH_INTERVAL_MS\":\"100\"",
                "\"TARGET_LAG_MS\":\"100\"", "\"GET_CACHE_TTL_MS\":\"50\"");

        HttpResponse<String> bad = change("{\"BATCH_SIZE\":5000,\"FLUSH_INTERVAL_MS\":\"-3\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).isEqualTo("{\"error\":\"FLUSH_INTERVAL_MS: expected auto or an integer 0..60000, "
                + "found '-3'\"}\n");
        assertThat(app.server().liveSettings().current()).containsEntry("BATCH_SIZE", "10000"); // all or nothing
        assertThat(change("{\"RING_SIZE\":\"1024\"}").body()).isEqualTo("{\"error\":\"RING_SIZE: cannot change "
                + "while running; expected one of BATCH_SIZE, FLUSH_INTERVAL_MS, TARGET_LAG_MS, GET_CACHE_TTL_MS "
                + "(set it and restart)\"}\n");
        assertThat(change("{\"NOPE\":\"1\"}").statusCode()).isEqualTo(400);
        assertThat(change("not json").statusCode()).isEqualTo(400);
        assertThat(admin(app.server(), "POST", "/admin/settings", "Bearer " + TOKEN,
                "application/x-www-form-urlencoded",
                "BATCH_SIZE=5").statusCode()).isEqualTo(415);
        HttpResponse<String> put = admin(app.server(), "PUT", "/admin/settings", "Bearer " + TOKEN, "application/json",
                "{}");
        assertThat(put.statusCode()).isEqualTo(405);
        assertThat(put.headers().firstValue("Allow")).hasValue("GET, HEAD, POST");
        HttpResponse<String> head = admin(app.server(), "HEAD", "/admin/settings", "Bearer " + TOKEN, null, null);
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(head.body()).isEmpty();

        long changesBefore = app.server().liveSettings().changes();
        HttpResponse<String> good = change("{\"BATCH_SIZE\":5000,\"FLUSH_INTERVAL_MS\":\"auto\","
                + "\"TARGET_LAG_MS\":\"80\"}");
        assertThat(good.statusCode()).isEqualTo(200);
        assertThat(good.body()).contains("\"changed\":{\"BATCH_SIZE\":\"5000\",\"FLUSH_INTERVAL_MS\":\"auto\","
                + "\"TARGET_LAG_MS\":\"80\"}");
        assertThat(app.server().liveSettings().changes()).isEqualTo(changesBefore + 3);
        String scrape = send(app.server(), "GET", "/metrics").body();
        assertThat(scrape).contains("tracerboy_live_setting{name=\"BATCH_SIZE\"} 5000.0",
                "tracerboy_flush_interval_mode{tracerboy_flush_interval_mode=\"auto\"} 1",
                "tracerboy_flush_interval_mode{tracerboy_flush_interval_mode=\"fixed\"} 0",
                "tracerboy_settings_changes_total " + (changesBefore + 3) + ".0");
        assertThat(scrape).as("auto is a state, not a number").doesNotContain("name=\"FLUSH_INTERVAL_MS\"");

        // Back to the configured values, for the other tests.
        assertThat(change("{\"BATCH_SIZE\":10000,\"FLUSH_INTERVAL_MS\":100,\"TARGET_LAG_MS\":100}").statusCode())
                .isEqualTo(200);
    }

    @Test
    void aValueIsParsedExactlyAsAtStartupAndARepeatedNameOrBrokenJsonIsRefusedInOurOwnWords() throws Exception {
        // The same text gets the same answer as in the environment at startup: nothing is stripped or rounded here.
        Map<String, String> sameAsStartup = new LinkedHashMap<>();
        sameAsStartup.put("\" 5000\"", " 5000");
        sameAsStartup.put("\"5000 \"", "5000 ");
        sameAsStartup.put("1e3", "1e3");
        sameAsStartup.put("5000.0", "5000.0");
        sameAsStartup.put("true", "true");
        for (Map.Entry<String, String> value : sameAsStartup.entrySet()) {
            String atStartup = catchThrowableOfType(() -> TracerboyConfig.load(new String[0], new Properties(),
                    Map.of("BATCH_SIZE", value.getValue())), ConfigException.class).getMessage();
            HttpResponse<String> answer = change("{\"BATCH_SIZE\":" + value.getKey() + "}");
            assertThat(answer.statusCode()).as(value.getKey()).isEqualTo(400);
            assertThat(answer.body()).as(value.getKey()).isEqualTo(JsonReplies.error(atStartup) + "\n");
        }
        Map<String, String> refusals = new LinkedHashMap<>();
        refusals.put("{\"BATCH_SIZE\":5000,\"BATCH_SIZE\":6000}",
                "BATCH_SIZE: expected one value, found the field repeated");
        refusals.put("{\"BATCH_SIZE\":[5000]}", "BATCH_SIZE: expected a string or an integer, found an array");
        refusals.put("{\"BATCH_SIZE\":{\"v\":5000}}", "BATCH_SIZE: expected a string or an integer, found an object");
        refusals.put("{\"BATCH_SIZE\":null}", "BATCH_SIZE: expected a string or an integer, found null");
        refusals.put("[5000]", "request body: expected a JSON object of setting names to values, found an array");
        refusals.put("", "request body: expected a JSON object of setting names to values, found nothing");
        refusals.put("{\"BATCH_SIZE\":5000", "request body: expected a JSON object of setting names to values, "
                + "found the body ending inside it");
        refusals.put("not json", "request body: expected a JSON object of setting names to values, found invalid "
                + "JSON (reading stopped at line 1, column 5)");
        refusals.put("{\"BATCH_SIZE\":5000}{}", "request body: expected one JSON object of setting names to values, "
                + "found more after it");
        for (Map.Entry<String, String> refusal : refusals.entrySet()) {
            HttpResponse<String> answer = change(refusal.getKey());
            assertThat(answer.statusCode()).as(refusal.getKey()).isEqualTo(400);
            assertThat(answer.body()).as(refusal.getKey()).isEqualTo(JsonReplies.error(refusal.getValue()) + "\n");
        }
        assertThat(app.server().liveSettings().current()).containsEntry("BATCH_SIZE", "10000");
    }

    @Test
    void theTokenNeverReachesTheLogAndARestartComesBackToTheConfiguredValues() throws Exception {
        Map<String, String> env = Map.of("DATABASE_URL", app.database().url(), "ADMIN_TOKEN", TOKEN, "BATCH_SIZE",
                "321");
        try (JarProcess jar = new JarProcess(env)) {
            assertThat(adminOf(jar, "Bearer " + TOKEN, "{\"BATCH_SIZE\":\"123\"}").statusCode()).isEqualTo(200);
            assertThat(adminOf(jar, "Bearer wrong-" + TOKEN, "{\"BATCH_SIZE\":\"7\"}").statusCode()).isEqualTo(401);
            jar.signal(false);
            assertThat(jar.awaitExit()).isZero();
            assertThat(String.join("\n", jar.output())).doesNotContain(TOKEN)
                    .contains("setting changed at runtime: BATCH_SIZE 321 -> 123", "ADMIN_TOKEN=****");
        }
        try (JarProcess again = new JarProcess(env)) {
            HttpResponse<String> read = again.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + again.port() + "/admin/settings")).header("Authorization", "Bearer " + TOKEN).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(read.body()).contains("\"BATCH_SIZE\":\"321\"");
        }
    }

    private static HttpResponse<String> adminOf(JarProcess jar, String authorization, String json) throws Exception {
        return jar.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + jar.port() + "/admin/settings"))
                .header("Authorization", authorization).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
