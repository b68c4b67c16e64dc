package io.tracerboy.storage;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.tracerboy.ingest.RetryBackoff;
import io.tracerboy.testsupport.TestDatabase;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
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
        try (Database nowhere = new Database("jdbc:postgresql://127.0.0.1:" + closedPort + "/none", "u", "p", 2)) {
            SchemaMigrator migrator = new SchemaMigrator(nowhere, EnginePreference.AUTO, new RetryBackoff(1, 1), () -> {
                fiveFailures.countDown();
                return nowNanos.getAndAdd(TimeUnit.SECONDS.toNanos(30));
            }, new NoListener());
            migrator.start();
            assertThat(fiveFailures.await(60, TimeUnit.SECONDS)).isTrue();
            migrator.cancel();
            assertThat(migrator.awaitMigrated(10_000)).isFalse();
        } finally {
            logger.detachAppender(logged);
        }
        List<String> warnings = logged.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(0)).startsWith("database unreachable while migrating the schema (");
        assertThat(warnings.get(1)).startsWith("database still unreachable after 3 attempts in 60 s (");
        assertThat(warnings.get(2)).startsWith("database still unreachable after 5 attempts in 120 s (");
    }

    @Test
    void aFatalErrorIsReportedOnceWithItsOneLineReason() throws Exception {
        AtomicReference<String> fatal = new AtomicReference<>();
        CountDownLatch reported = new CountDownLatch(1);
        try (TestDatabase test = TestDatabase.create();
             Database missing = new Database(TestDatabase.withDatabase(test.url(), "no_such_database"), null, null,
                     2)) {
            SchemaMigrator migrator = new SchemaMigrator(missing, EnginePreference.AUTO, new RetryBackoff(1, 1),
                    System::nanoTime, new NoListener() {
                        @Override
                        public void onFatal(Exception failure) {
                            fatal.set(SchemaMigrator.rootMessage(failure));
                            reported.countDown();
                        }
                    });
            migrator.start();
            assertThat(migrator.awaitMigrated(30_000)).isFalse();
            assertThat(reported.await(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(fatal.get()).contains("no_such_database").doesNotContain("\n");
    }

    private static class NoListener implements SchemaMigrator.Listener {
        @Override
        public void onMigrated(StorageEngine.Choice choice) {
            throw new AssertionError("not migrated");
        }

        @Override
        public void onFatal(Exception failure) {
            throw new AssertionError("not fatal", failure);
        }
    }
}
