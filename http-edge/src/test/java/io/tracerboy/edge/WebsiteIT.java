package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.logging.Level;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.json.Json;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * A website tracked by tracerboy.js in a real browser ({@link HeadlessChromium}), from a second origin: a shop served
 * by a small HTTP server of its own on another port loads {@code /tracerboy.js} from tracerboy and records clicks and
 * impressions of four users across page loads. Midway tracerboy stops (its port closed) while the pages go on
 * recording, the browser leaves the page and comes back (the queue lives in the shop's {@code localStorage}), and
 * tracerboy returns on the same port and database. At the end {@code GET /analytics} counts exactly what the pages
 * recorded — none lost, none counted twice although some were sent twice — and the browser's own network log shows
 * the preflight and the CORS headers it was given. Skipped, saying so, without a browser.
 */
class WebsiteIT {
    private static final Path SCREENSHOTS = Path.of("target", "website");
    private static final Duration DELIVERED = Duration.ofSeconds(120);

    /** The shop: a page per user that loads the tracker, and a page without it. */
    private static final class Shop implements AutoCloseable {
        private final HttpServer server;

        Shop(int tracerboyPort) throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            String tracerboy = "http://127.0.0.1:" + tracerboyPort;
            server.createContext("/page", exchange -> {
                String user = exchange.getRequestURI().getQuery().replace("user=", "");
                reply(exchange, page(tracerboy, user));
            });
            server.createContext("/away", exchange -> reply(exchange, "<!doctype html><title>away</title><p>"
                    + "No tracker on this page.</p>"));
            server.start();
        }

        /**
         * A shop page: an impression when it loads, a click per press of its button. The shop keeps its own log of
         * what it recorded (the ids the tracker returned, with their time and user) in its localStorage, which the
         * test counts against; a page on which the tracker failed to load records nothing there.
         */
        private static String page(String tracerboy, String user) {
            return "<!doctype html><html><head><meta charset=\"utf-8\"><title>shop: " + user + "</title>\n"
                    + "<script src=\"" + tracerboy + "/tracerboy.js\" data-user=\"" + user + "\"></script>\n"
                    + "<script>\n"
                    + "function logged(event, id, t) {\n"
                    + "  var log = JSON.parse(localStorage.getItem('shop:log') || '[]');\n"
                    + "  if (id) log.push({event: event, id: id, user: '" + user + "', t: t\n"
                    + "      || parseInt(id.slice(0, 8) + id.slice(9, 13), 16)});\n"
                    + "  localStorage.setItem('shop:log', JSON.stringify(log));\n"
                    + "  return id;\n"
                    + "}\n"
                    + "function track(event) { return logged(event, window.tracerboy && tracerboy[event]()); }\n"
                    // The shop's own back office posting NDJSON itself: a type that needs a preflight.
                    + "function direct(done) {\n"
                    + "  var t = Date.now(), id = 'direct-' + t;\n"
                    + "  fetch('" + tracerboy + "/analytics/batch', {method: 'POST', credentials: 'omit',\n"
                    + "      headers: {'Content-Type': 'application/x-ndjson'},\n"
                    + "      body: JSON.stringify({timestamp: t, user: '" + user + "', event: 'click', id: id})\n"
                    + "        + '\\n'})\n"
                    + "    .then(r => r.text().then(body => { if (r.status == 200) logged('click', id, t);\n"
                    + "      done({status: r.status, body: body}); }), e => done({error: String(e)}));\n"
                    + "}\n"
                    + "track('impression');\n"
                    + "</script></head><body><h1>" + user + "</h1>\n"
                    + "<button id=\"buy\" onclick=\"track('click')\">buy</button> <a href=\"/away\">away</a>\n"
                    + "</body></html>\n";
        }

        private static void reply(com.sun.net.httpserver.HttpExchange exchange, String html) throws IOException {
            byte[] body = html.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }

        String origin() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** tracerboy on one port and database, stopped (its port closed) and started again. */
    private static final class Restartable implements AutoCloseable {
        private final String databaseUrl;
        private final Map<String, String> settings;
        private TracerboyServer server;

        Restartable(String databaseUrl, Map<String, String> settings) {
            this.databaseUrl = databaseUrl;
            this.settings = settings;
        }

        TracerboyServer start() throws IOException {
            server = startServer(databaseUrl, settings);
            return server;
        }

        void stop() {
            server.stop();
            server = null;
        }

        @Override
        public void close() {
            if (server != null) {
                server.close();
            }
        }
    }

    /** One recorded event as the shop logged it. */
    private record Recorded(String event, String id, String user, long timestampMs) {
    }

    /** What the browser's DevTools network log saw (Chromium's performance log), kept across drains. */
    private static final class NetworkLog {
        private final List<Map<String, Object>> events = new ArrayList<>();

        @SuppressWarnings("unchecked")
        void drain(WebDriver driver) {
            Json json = new Json();
            for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
                Map<String, Object> logged = json.toType(entry.getMessage(), Map.class);
                events.add((Map<String, Object>) logged.get("message"));
            }
        }

        /** The {@code params} of every event of this CDP method. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> params(String method) {
            return events.stream().filter(e -> method.equals(e.get("method")))
                    .map(e -> (Map<String, Object>) e.get("params")).toList();
        }

        /** The responses to requests of this method to this URL, each with its status and headers. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> responses(String method, String url) {
            Set<Object> ids = new HashSet<>();
            for (Map<String, Object> sent : params("Network.requestWillBeSent")) {
                Map<String, Object> request = (Map<String, Object>) sent.get("request");
                if (method.equals(request.get("method")) && url.equals(request.get("url"))) {
                    ids.add(sent.get("requestId"));
                }
            }
            return params("Network.responseReceived").stream().filter(r -> ids.contains(r.get("requestId")))
                    .map(r -> (Map<String, Object>) r.get("response")).toList();
        }

        /** How many requests of this method to this URL failed without an answer (a closed port). */
        @SuppressWarnings("unchecked")
        long failures(String method, String url) {
            Set<Object> ids = new HashSet<>();
            for (Map<String, Object> sent : params("Network.requestWillBeSent")) {
                Map<String, Object> request = (Map<String, Object>) sent.get("request");
                if (method.equals(request.get("method")) && url.equals(request.get("url"))) {
                    ids.add(sent.get("requestId"));
                }
            }
            return params("Network.loadingFailed").stream().filter(f -> ids.contains(f.get("requestId"))).count();
        }

        /** The requests of this method to this URL, with their headers as the page gave them. */
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> requests(String method, String url) {
            return params("Network.requestWillBeSent").stream().map(p -> (Map<String, Object>) p.get("request"))
                    .filter(r -> method.equals(r.get("method")) && url.equals(r.get("url"))).toList();
        }
    }

    @SuppressWarnings("unchecked")
    private static String header(Map<String, Object> message, String name) {
        Map<String, Object> headers = (Map<String, Object>) message.get("headers");
        return headers.entrySet().stream().filter(h -> h.getKey().equalsIgnoreCase(name))
                .map(h -> String.valueOf(h.getValue())).findFirst().orElse(null);
    }

    private static Object script(WebDriver driver, String js) {
        return ((JavascriptExecutor) driver).executeScript(js);
    }

    /** What the shop logged, from its localStorage. */
    @SuppressWarnings("unchecked")
    private static List<Recorded> recorded(WebDriver driver) {
        List<Map<String, Object>> log = (List<Map<String, Object>>) script(driver,
                "return JSON.parse(localStorage.getItem('shop:log') || '[]');");
        return log.stream().map(e -> new Recorded((String) e.get("event"), (String) e.get("id"),
                (String) e.get("user"), ((Number) e.get("t")).longValue())).toList();
    }

    /** Events the tracker holds unacknowledged, over every queue in the shop's localStorage. */
    private static long queued(WebDriver driver) {
        return ((Number) script(driver, "return Object.keys(localStorage).filter(k => k.startsWith('tracerboy:q:'))"
                + ".map(k => JSON.parse(localStorage.getItem(k)).q.length).reduce((a, b) => a + b, 0);"))
                .longValue();
    }

    /** Waits until the tracker holds nothing unacknowledged; says what it still holds and logged when it does not. */
    private static void awaitDelivered(WebDriver driver) {
        try {
            await().atMost(DELIVERED).until(() -> queued(driver) == 0);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the tracker still holds " + script(driver, "return JSON.stringify("
                    + "Object.fromEntries(Object.entries(localStorage)));") + "; browser console: "
                    + driver.manage().logs().get(LogType.BROWSER).getAll(), e);
        }
    }

    private static void open(WebDriver driver, Shop shop, String user) {
        driver.get(shop.origin() + "/page?user=" + user);
        assertThat(driver.getTitle()).isEqualTo("shop: " + user);
    }

    private static void buy(WebDriver driver, int times) {
        for (int i = 0; i < times; i++) {
            driver.findElement(By.id("buy")).click();
        }
    }

    private static void screenshot(WebDriver driver, String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Files.copy(((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath(),
                SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The {@code GET /analytics} answer the recorded events make for each of their hours. */
    private static Map<Long, String> expectedAnswers(List<Recorded> recorded) {
        Map<Long, List<Recorded>> byHour = new TreeMap<>();
        for (Recorded event : recorded) {
            byHour.computeIfAbsent(Hours.startMs(event.timestampMs()), h -> new ArrayList<>()).add(event);
        }
        Map<Long, String> answers = new LinkedHashMap<>();
        byHour.forEach((hour, events) -> answers.put(hour, "unique_users,"
                + events.stream().map(Recorded::user).distinct().count()
                + "\nclicks," + events.stream().filter(e -> e.event().equals("click")).count()
                + "\nimpressions," + events.stream().filter(e -> e.event().equals("impression")).count() + "\n"));
        return answers;
    }

    @Test
    void everyEventAShopPageRecordsIsCountedExactlyOnceThroughAnOutageAndPageExits() throws Exception {
        ChromeOptions options = HeadlessChromium.options();
        LoggingPreferences logging = new LoggingPreferences();
        logging.enable(LogType.PERFORMANCE, Level.ALL);
        logging.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logging);
        WebDriver driver = HeadlessChromium.start(options);
        NetworkLog network = new NetworkLog();
        int port = freePort();
        Map<String, String> settings = Map.of("PORT", Integer.toString(port), "FLUSH_INTERVAL_MS", "5");
        String batchUrl = "http://127.0.0.1:" + port + "/analytics/batch";
        try (TestDatabase database = TestDatabase.create(); Shop shop = new Shop(port);
             Restartable restartable = new Restartable(database.url(), settings)) {
            TracerboyServer tracerboy = restartable.start();
            assertThat(tracerboy.awaitReady(60_000)).isTrue();
            assertThat(URI.create(shop.origin()).getPort()).as("a second origin").isNotEqualTo(port);
            int actions = 0;

            // Up: alice and bob browse; alice's last click is still lingering when she leaves, so her page sends it by
            // beacon on pagehide and bob's page, taking over her queue, sends it again with the same id and time.
            open(driver, shop, "alice");
            buy(driver, 2);
            @SuppressWarnings("unchecked")
            Map<String, Object> direct = (Map<String, Object>) ((JavascriptExecutor) driver)
                    .executeAsyncScript("direct(arguments[0]);");
            assertThat(direct).as("a preflighted POST from the page").containsEntry("status", 200L)
                    .containsEntry("body", "{\"accepted\":1}\n");
            script(driver, "track('click'); location.href = '/page?user=bob';");
            actions += 1 + 2 + 1 + 1;
            await().atMost(Duration.ofSeconds(20)).until(() -> "shop: bob".equals(driver.getTitle()));
            buy(driver, 1);
            actions += 1 + 1;
            TracerboyServer first = tracerboy;
            awaitDelivered(driver);
            await().atMost(Duration.ofSeconds(30)).until(() -> first.stats().rowsWritten() == 7
                    && first.stats().resends() >= 1);
            network.drain(driver);

            // Down: the port closes; bob goes on, leaves for a page without the tracker, and carol and dave come
            // with the tracker from the browser's cache, every event waiting in localStorage.
            restartable.stop();
            buy(driver, 2);
            driver.get(shop.origin() + "/away");
            open(driver, shop, "carol");
            buy(driver, 2);
            driver.navigate().back();
            assertThat(driver.getTitle()).isEqualTo("away");
            open(driver, shop, "dave");
            buy(driver, 1);
            actions += 2 + 1 + 2 + 1 + 1;
            assertThat(recorded(driver)).as("every action recorded, the tracker loaded on every page").hasSize(actions);
            assertThat(queued(driver)).as("what came after the stop waits in localStorage").isEqualTo(7);
            screenshot(driver, "during-outage");
            // The page tries, fails on the closed port and backs off, its queue intact.
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                network.drain(driver);
                return network.failures("POST", batchUrl) > 0;
            });
            assertThat(queued(driver)).isEqualTo(7);

            // Back: the same port and database. The page's own backoff brings the queue over.
            tracerboy = restartable.start();
            assertThat(tracerboy.awaitReady(60_000)).isTrue();
            awaitDelivered(driver);
            network.drain(driver);

            List<Recorded> recorded = recorded(driver);
            assertThat(recorded).hasSize(14);
            assertThat(recorded.stream().map(Recorded::id).distinct().count()).isEqualTo(14);
            assertThat(recorded.stream().map(Recorded::user).distinct().toList())
                    .containsExactly("alice", "bob", "carol", "dave");
            Map<Long, String> expected = expectedAnswers(recorded);
            TracerboyServer second = tracerboy;
            await().atMost(Duration.ofSeconds(30)).until(() -> second.stats().rowsWritten() == 7);
            for (Map.Entry<Long, String> hour : expected.entrySet()) {
                assertThat(send(tracerboy, "GET", "/analytics?timestamp=" + hour.getKey()).body())
                        .as("hour %s", hour.getKey()).isEqualTo(hour.getValue());
            }

            // What the browser was told: the preflight of the page's own NDJSON POST, and CORS on every answer.
            List<Map<String, Object>> preflights = network.responses("OPTIONS", batchUrl);
            assertThat(preflights).as("the preflight Chromium sent").hasSize(1);
            Map<String, Object> preflight = preflights.get(0);
            assertThat(((Number) preflight.get("status")).intValue()).isEqualTo(204);
            assertThat(header(preflight, "Access-Control-Allow-Origin")).isEqualTo("*");
            assertThat(header(preflight, "Access-Control-Allow-Methods")).isEqualTo("POST");
            assertThat(header(preflight, "Access-Control-Allow-Headers"))
                    .isEqualTo("Content-Type, Content-Encoding, Idempotency-Key");
            assertThat(header(preflight, "Access-Control-Max-Age")).isEqualTo("7200");
            List<Map<String, Object>> posts = network.responses("POST", batchUrl);
            assertThat(posts).as("answers to the tracker's and the page's POSTs").isNotEmpty();
            for (Map<String, Object> post : posts) {
                assertThat(((Number) post.get("status")).intValue()).isEqualTo(200);
                assertThat(header(post, "Access-Control-Allow-Origin")).isEqualTo("*");
                assertThat(header(post, "Access-Control-Expose-Headers")).isEqualTo("Retry-After");
            }
            List<String> types = network.requests("POST", batchUrl).stream()
                    .map(r -> String.valueOf(header(r, "Content-Type")).toLowerCase(Locale.ROOT)).toList();
            assertThat(types).as("the tracker's POSTs need no preflight").contains("text/plain;charset=utf-8")
                    .containsOnly("text/plain;charset=utf-8", "application/x-ndjson");
            assertThat(types.stream().filter(t -> t.equals("application/x-ndjson")).count()).isEqualTo(1);
            screenshot(driver, "delivered");
        } finally {
            driver.quit();
        }
    }
}
