package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/**
 * The status page in a real browser ({@link HeadlessChromium}: Debian's headless Chromium through its chromedriver).
 * Skipped, saying so, where they are not installed. Screenshots of what the page showed land in
 * {@code target/status-page/}.
 */
class StatusPageIT {
    private static final Path SCREENSHOTS = Path.of("target", "status-page");
    private static final String TOKEN = "status-page-admin-token";
    // A past hour within every retention (events older than EVENT_RETENTION_HOURS are refused).
    private static final long HOUR_START_MS = Hours.startMs(System.currentTimeMillis()) - 3 * Hours.HOUR_MS;
    /** Every card on the page, with the unit its chart's scale is labelled in. */
    private static final Map<String, String> UNITS = Map.ofEntries(Map.entry("accepted-rate", "events/s"),
            Map.entry("written-rate", "rows/s"), Map.entry("commits-rate", "commits/s"),
            Map.entry("avg-batch", "events"), Map.entry("ring-depth", "events"), Map.entry("oldest-age", "ms"),
            Map.entry("linger", "ms"), Map.entry("triggers", "flushes/s"), Map.entry("write-failures", "failures/s"),
            Map.entry("rejected-rate", "events/s"), Map.entry("get-rate", "GETs/s"), Map.entry("rows-written", "rows"));
    private static final DateTimeFormatter SHOWN_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private static WebDriver browser() {
        return HeadlessChromium.start(HeadlessChromium.options());
    }

    /** The element's text, or "" when the page has no such element. */
    private static String text(WebDriver driver, String id) {
        List<WebElement> found = driver.findElements(By.id(id));
        return found.isEmpty() ? "" : found.get(0).getText();
    }

    private static long shown(WebDriver driver, String id) {
        String text = text(driver, id).replace(",", "");
        return text.matches("-?[0-9]+") ? Long.parseLong(text) : Long.MIN_VALUE;
    }

    /** From now on the page records every text each card's value shows, so none can pass unseen between two polls. */
    private static void recordShownValues(WebDriver driver) {
        ((JavascriptExecutor) driver).executeScript("window.shownValues = {};"
                + "for (const value of document.querySelectorAll('.card .value')) {"
                + "  window.shownValues[value.id] = [];"
                + "  new MutationObserver(() => window.shownValues[value.id].push(value.textContent))"
                + "    .observe(value, {childList: true, characterData: true, subtree: true});"
                + "}");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, List<String>> shownValues(WebDriver driver) {
        return (Map<String, List<String>>) ((JavascriptExecutor) driver).executeScript("return window.shownValues;");
    }

    private static void screenshot(WebDriver driver, String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        Files.copy(((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath(),
                SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** When {@code /status.json} says the server started, or -1 if it does not say. */
    private static long startedAtMs(TracerboyServer server) throws Exception {
        java.util.regex.Matcher field = java.util.regex.Pattern.compile("\"started_at_ms\":([0-9]+)")
                .matcher(send(server, "GET", "/status.json").body());
        return field.find() ? Long.parseLong(field.group(1)) : -1;
    }

    /** True while the load client runs; what it failed with otherwise, at once rather than at a later timeout. */
    private static boolean loadHasNotFailed(Future<?> load) throws Exception {
        if (load.isDone()) {
            load.get();
        }
        return true;
    }

    @Test
    void theLastFortyEightHoursAreChartedFromTheSeriesWithTheirTotals() throws Exception {
        WebDriver driver = browser();
        long nowMs = System.currentTimeMillis();
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ACK_MODE", "committed"))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            // Three hours of the last 48: 30 h ago, 5 h ago and now; ann comes back, so uniques do not add up.
            String[][] events = {{"30", "ann", "click"}, {"30", "bob", "impression"}, {"5", "ann", "impression"},
                {"5", "cat", "impression"}, {"0", "ann", "click"}};
            for (String[] event : events) {
                long ts = nowMs - Long.parseLong(event[0]) * Hours.HOUR_MS;
                assertThat(send(server, "POST", "/analytics?timestamp=" + ts + "&user=" + event[1] + "&event="
                        + event[2]).statusCode()).isEqualTo(204);
            }
            driver.get("http://127.0.0.1:" + server.port() + "/status");
            await().atMost(Duration.ofSeconds(20)).until(() -> text(driver, "series-total").contains("clicks"));
            screenshot(driver, "last-48-hours");
            assertThat(text(driver, "series-total")).isEqualTo("2 clicks · 3 impressions · 3 unique users");
            WebElement chart = driver.findElement(By.id("series-chart"));
            assertThat(chart.getAttribute("data-buckets")).isEqualTo("48");
            String events48 = driver.findElement(By.id("series-events")).getAttribute("d");
            assertThat(events48.split(" ")).hasSize(48);
            // Two events 30 h ago reach the top of the scale; an empty hour lies on the axis.
            assertThat(events48.split(" ")[17]).endsWith(",0.00");
            assertThat(events48.split(" ")[0]).isEqualTo("M0.00,80.00");
            assertThat(text(driver, "series-max")).isEqualTo("2 /h");
            assertThat(text(driver, "series-note")).startsWith("updated ");
        } finally {
            driver.quit();
        }
    }

    @Test
    void thePageLoadsItsNumbersMoveUnderLoadEveryChartShowsItsScaleAndAKnobChangedThroughItReachesTheAdminApi()
            throws Exception {
        WebDriver driver = browser();
        ExecutorService client = Executors.newSingleThreadExecutor();
        AtomicBoolean loading = new AtomicBoolean(true);
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ADMIN_TOKEN", TOKEN))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            driver.get("http://127.0.0.1:" + server.port() + "/status");
            await().atMost(Duration.ofSeconds(20)).until(() -> "ready".equals(text(driver, "state")));
            assertThat(text(driver, "now-BATCH_SIZE")).isEqualTo("10000");
            // Retention's table: each time-partitioned table with today's and the next two days' partitions.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> text(driver, "retention-note").startsWith("as retention"));
            assertThat(driver.findElements(By.cssSelector("#retention tbody tr")).stream().map(WebElement::getText))
                    .anyMatch(row -> row.startsWith("events 3 ")).anyMatch(row -> row.startsWith("request_keys 3 "));
            recordShownValues(driver);
            AtomicInteger sent = new AtomicInteger();
            Future<?> load = client.submit(() -> {
                while (loading.get()) {
                    assertThat(send(server, "POST", "/analytics?timestamp=" + HOUR_START_MS + "&user=u" + sent.get()
                            + "&event=click").statusCode()).isEqualTo(204);
                    sent.incrementAndGet();
                }
                return null;
            });
            await().atMost(Duration.ofSeconds(20)).until(() -> loadHasNotFailed(load)
                    && shown(driver, "accepted-rate") > 0);
            long written = shown(driver, "rows-written");
            await().atMost(Duration.ofSeconds(20)).until(() -> loadHasNotFailed(load)
                    && shown(driver, "rows-written") > written && shown(driver, "commits-rate") > 0);
            loading.set(false);
            load.get(30, TimeUnit.SECONDS);
            screenshot(driver, "under-load");

            SoftAssertions scales = new SoftAssertions();
            for (Map.Entry<String, String> card : UNITS.entrySet()) {
                String id = card.getKey();
                scales.assertThat(driver.findElements(By.id(id + "-max"))).as(id + ": a top of scale").hasSize(1);
                scales.assertThat(driver.findElements(By.id(id + "-min"))).as(id + ": a bottom of scale").hasSize(1);
                if (driver.findElements(By.id(id + "-max")).size() == 1) {
                    scales.assertThat(text(driver, id + "-max")).as(id + ": top of scale")
                            .matches("[0-9,]+ " + card.getValue());
                    scales.assertThat(text(driver, id + "-min")).as(id + ": bottom of scale")
                            .isEqualTo("0 " + card.getValue());
                }
            }
            scales.assertThat(driver.findElements(By.cssSelector(".card .x")))
                    .as("every chart's time axis").hasSize(UNITS.size())
                    .allMatch(axis -> axis.getText().startsWith("2 min ago") && axis.getText().endsWith("now"));
            // The top of the scale is the peak the card showed (within the 2 minutes the chart covers).
            List<?> peakAndSeen = (List<?>) ((JavascriptExecutor) driver).executeScript("return ["
                    + "(document.getElementById('accepted-rate-max') || {}).textContent,"
                    + " window.shownValues['accepted-rate']];");
            long peakSeen = ((List<?>) peakAndSeen.get(1)).stream().map(v -> v.toString().replace(",", ""))
                    .filter(v -> v.matches("[0-9]+")).mapToLong(Long::parseLong).max().orElseThrow();
            scales.assertThat(peakSeen).isPositive();
            scales.assertThat(String.valueOf(peakAndSeen.get(0))).as("the accepted rate's top of scale")
                    .isEqualTo(String.format(java.util.Locale.ROOT, "%,d events/s", peakSeen));
            // A total says what it covers.
            scales.assertThat(text(driver, "rows-written-label")).as("the total's label")
                    .isEqualTo("rows written since this server started at "
                            + SHOWN_TIME.format(Instant.ofEpochMilli(startedAtMs(server))));
            scales.assertAll();

            driver.findElement(By.id("token")).sendKeys(TOKEN + "-wrong");
            driver.findElement(By.id("BATCH_SIZE")).sendKeys("777");
            driver.findElement(By.id("apply")).click();
            await().atMost(Duration.ofSeconds(10)).until(() -> text(driver, "apply-result").startsWith("401 "));
            assertThat(server.liveSettings().current()).containsEntry("BATCH_SIZE", "10000");

            driver.findElement(By.id("token")).clear();
            driver.findElement(By.id("token")).sendKeys(TOKEN);
            driver.findElement(By.id("apply")).click();
            await().atMost(Duration.ofSeconds(10)).until(() -> text(driver, "apply-result")
                    .equals("applied: BATCH_SIZE=777"));
            assertThat(TestServers.admin(server, "GET", "/admin/settings", "Bearer " + TOKEN, null, null).body())
                    .contains("\"BATCH_SIZE\":\"777\"");
            await().atMost(Duration.ofSeconds(10)).until(() -> text(driver, "now-BATCH_SIZE").equals("777"));
        } finally {
            loading.set(false);
            client.shutdownNow();
            driver.quit();
        }
    }

    @Test
    void whileTheServerIsDownItsFiguresLookStaleAndAfterARestartRatesStartAgainInsteadOfGoingNegative()
            throws Exception {
        WebDriver driver = browser();
        try (TestDatabase database = TestDatabase.create()) {
            int port;
            try (TracerboyServer first = startServer(database.url(), Map.of())) {
                assertThat(first.awaitReady(60_000)).isTrue();
                port = first.port();
                driver.get("http://127.0.0.1:" + port + "/status");
                await().atMost(Duration.ofSeconds(20)).until(() -> "ready".equals(text(driver, "state")));
                for (int i = 0; i < 300; i++) {
                    assertThat(send(first, "POST", "/analytics?timestamp=" + HOUR_START_MS + "&user=u" + i
                            + "&event=click").statusCode()).isEqualTo(204);
                }
                TestServers.awaitRowsWritten(first, 300);
                await().atMost(Duration.ofSeconds(20)).until(() -> shown(driver, "rows-written") == 300
                        && shown(driver, "accepted-rate") == 0);
                recordShownValues(driver);
            }

            await().atMost(Duration.ofSeconds(10)).until(() -> text(driver, "state").contains("unreachable"));
            screenshot(driver, "server-down");
            // The age it gives grows while the server stays away.
            await().atMost(Duration.ofSeconds(10)).until(() -> text(driver, "updated")
                    .matches("last update ([3-9]|[1-9][0-9]+) s ago .*"));
            screenshot(driver, "server-down-for-a-while");
            SoftAssertions stale = new SoftAssertions();
            stale.assertThat(text(driver, "updated")).as("what the page says while the server is away")
                    .matches("last update [0-9]+ s ago \\(at \\d\\d:\\d\\d:\\d\\d UTC\\): server unreachable");
            stale.assertThat(driver.findElement(By.id("cards")).getAttribute("class")).as("the cards' class")
                    .contains("stale");
            stale.assertThat(Double.parseDouble(driver.findElement(By.id("rows-written")).getCssValue("opacity")))
                    .as("a stale figure is greyed").isLessThan(0.6);
            stale.assertThat(text(driver, "rows-written")).as("the last figure stays, greyed").isEqualTo("300");
            stale.assertAll();

            try (TracerboyServer second = startServer(database.url(), Map.of("PORT", String.valueOf(port)))) {
                assertThat(second.awaitReady(60_000)).isTrue();
                long secondStartedAtMs = startedAtMs(second);
                await().atMost(Duration.ofSeconds(20)).until(() -> "ready".equals(text(driver, "state"))
                        && shown(driver, "rows-written") == 0 && shown(driver, "accepted-rate") != Long.MIN_VALUE);
                screenshot(driver, "after-restart");
                SoftAssertions restart = new SoftAssertions();
                for (Map.Entry<String, List<String>> card : shownValues(driver).entrySet()) {
                    restart.assertThat(card.getValue()).as(card.getKey() + ": every value shown")
                            .noneMatch(value -> value.startsWith("-"));
                }
                restart.assertThat(driver.findElement(By.id("cards")).getAttribute("class")).as("fresh again")
                        .doesNotContain("stale");
                restart.assertThat(text(driver, "restart-note")).as("the restart is said")
                        .isEqualTo("the server restarted at " + SHOWN_TIME.format(Instant.ofEpochMilli(
                                secondStartedAtMs)) + ": its counters and the charts start again from there");
                restart.assertThat(text(driver, "rows-written-label"))
                        .isEqualTo("rows written since this server started at "
                                + SHOWN_TIME.format(Instant.ofEpochMilli(secondStartedAtMs)));
                restart.assertAll();
            }
        } finally {
            driver.quit();
        }
    }
}
