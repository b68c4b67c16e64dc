package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.tracerboy.ingest.RetryBackoff;
import io.tracerboy.testsupport.TestDatabase;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class SchemaMigratorIT {
    @Test
    void anUnreachableDatabaseIsLoggedOnceThenRemindedAtMostOnceAMinute() throws Exception {
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        Logger logger = (Logger) LoggerFactory.getLogger(SchemaMigrator.class);
        logger.addAppender(logged);
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        // The clock is read once per failed attempt; each read moves it 30 s, so 5 failures span 120 s.
        AtomicLong nowNanos = new AtomicLong();
        CountDownLatch fiveFailures = new CountDownLatch(5);
        RecordingListener listener = new RecordingListener();
        try (Database nowhere = new Database("jdbc:postgresql://127.0.0.1:" + closedPort + "/none", "u", "p", 2)) {
            SchemaMigrator migrator = new SchemaMigrator(nowhere, EnginePreference.AUTO, new RetryBackoff(1, 1), () -> {
                fiveFailures.countDown();
                return nowNanos.getAndAdd(TimeUnit.SECONDS.toNanos(30));
            }, listener);
            migrator.start();
            // A report (there should be none) ends the wait at once, to be seen below.
            await().atMost(Duration.ofSeconds(60)).until(() -> fiveFailures.getCount() == 0
                    || !listener.reports.isEmpty());
            migrator.cancel();
            assertThat(migrator.awaitMigrated(10_000)).isFalse();
        } finally {
            logger.detachAppender(logged);
        }
        assertThat(listener.reports).as("what the migrator reported").isEmpty();
        assertThat(fiveFailures.getCount()).isZero();
        List<String> warnings = logged.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(0)).startsWith("database unreachable while migrating the schema (");
        assertThat(warnings.get(1)).startsWith("database still unreachable after 3 attempts in 60 s (");
        assertThat(warnings.get(2)).startsWith("database still unreachable after 5 attempts in 120 s (");
    }

    @Test
    void aFatalErrorIsReportedOnceWithItsOneLineReason() throws Exception {
        RecordingListener listener = new RecordingListener();
        try (TestDatabase test = TestDatabase.create();
             Database missing = new Database(TestDatabase.withDatabase(test.url(), "no_such_database"), null, null,
                     2)) {
            SchemaMigrator migrator = new SchemaMigrator(missing, EnginePreference.AUTO, new RetryBackoff(1, 1),
                    System::nanoTime, listener);
            migrator.start();
            // Answers once the migrator thread is done: everything it reported is in the list by then.
            assertThat(migrator.awaitMigrated(30_000)).isFalse();
        }
        assertThat(listener.reports).singleElement().asString().startsWith("fatal: ").contains("no_such_database")
                .doesNotContain("\n");
    }

    /**
     * Records what the migrator reports, on its own thread, for the test thread to assert: an assertion thrown on the
     * migrator thread would only end that thread.
     */
    private static final class RecordingListener implements SchemaMigrator.Listener {
        final List<String> reports = new CopyOnWriteArrayList<>();

        @Override
        public void onMigrated(StorageEngine.Choice choice) {
            reports.add("migrated: " + choice.engine());
        }

        @Override
        public void onFatal(Exception failure) {
            reports.add("fatal: " + SchemaMigrator.rootMessage(failure));
        }
    }
}
