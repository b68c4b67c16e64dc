package io.tracerboy.edge;

import static io.tracerboy.edge.TestServers.send;
import static io.tracerboy.edge.TestServers.startServer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tracerboy.ingest.Hours;
import io.tracerboy.testsupport.TestDatabase;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The status page in a real browser: Debian's headless Chromium, driven by Selenium through Debian's chromedriver (no
 * driver download). Skipped, saying so, where they are not installed ({@code apt-get install chromium
 * chromium-driver}; {@code .ci/run} installs them).
 */
class StatusPageIT {
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final String TOKEN = "status-page-admin-token";
    private static final long HOUR_START_MS = Hours.startMs(1_620_000_000_000L);

    private static long shown(WebDriver driver, String id) {
        String text = driver.findElement(By.id(id)).getText().replace(",", "");
        return text.matches("-?[0-9]+") ? Long.parseLong(text) : -1;
    }

    @Test
    void thePageLoadsItsNumbersMoveUnderLoadAndAKnobChangedThroughItReachesTheAdminApi() throws Exception {
        assumeTrue(Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM),
                "skipped: no headless browser here (/usr/bin/chromium and /usr/bin/chromedriver; "
                        + "apt-get install chromium chromium-driver)");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toString())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        AtomicBoolean loading = new AtomicBoolean(true);
        try (TestDatabase database = TestDatabase.create();
             TracerboyServer server = startServer(database.url(), Map.of("ADMIN_TOKEN", TOKEN))) {
            assertThat(server.awaitReady(60_000)).isTrue();
            AtomicInteger sent = new AtomicInteger();
            Thread load = new Thread(() -> {
                while (loading.get()) {
                    try {
                        send(server, "POST", "/analytics?timestamp=" + HOUR_START_MS + "&user=u" + sent.get()
                                + "&event=click");
                        sent.incrementAndGet();
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            WebDriver driver = new ChromeDriver(service, options);
            try {
                driver.get("http://127.0.0.1:" + server.port() + "/status");
                await().atMost(Duration.ofSeconds(20)).until(() -> "ready".equals(driver.findElement(By.id("state"))
                        .getText()));
                assertThat(driver.findElement(By.id("now-BATCH_SIZE")).getText()).isEqualTo("10000");
                load.start();
                await().atMost(Duration.ofSeconds(20)).until(() -> shown(driver, "accepted-rate") > 0);
                long written = shown(driver, "rows-written");
                await().atMost(Duration.ofSeconds(20)).until(() -> shown(driver, "rows-written") > written
                        && shown(driver, "commits-rate") > 0);

                driver.findElement(By.id("token")).sendKeys(TOKEN + "-wrong");
                driver.findElement(By.id("BATCH_SIZE")).sendKeys("777");
                driver.findElement(By.id("apply")).click();
                await().atMost(Duration.ofSeconds(10)).until(() -> driver.findElement(By.id("apply-result")).getText()
                        .startsWith("401 "));
                assertThat(server.liveSettings().current()).containsEntry("BATCH_SIZE", "10000");

                driver.findElement(By.id("token")).clear();
                driver.findElement(By.id("token")).sendKeys(TOKEN);
                driver.findElement(By.id("apply")).click();
                await().atMost(Duration.ofSeconds(10)).until(() -> driver.findElement(By.id("apply-result")).getText()
                        .equals("applied: BATCH_SIZE=777"));
                assertThat(TestServers.admin(server, "GET", "/admin/settings", "Bearer " + TOKEN, null, null).body())
                        .contains("\"BATCH_SIZE\":\"777\"");
                await().atMost(Duration.ofSeconds(10)).until(() -> driver.findElement(By.id("now-BATCH_SIZE"))
                        .getText().equals("777"));
            } finally {
                loading.set(false);
                driver.quit();
                load.join();
            }
        }
    }
}
