package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.tracerboy.testsupport.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh database and a ready server on it, shared by the tests of one class and closed after them (servers first):
 * {@code @RegisterExtension static final ServerAndDatabase app = new ServerAndDatabase(Map.of("BATCH_SIZE", "10"));}.
 */
final class ServerAndDatabase implements BeforeAllCallback, AfterAllCallback {
    private final Map<String, String> settings;
    private final List<TracerboyServer> servers = new ArrayList<>();
    private TestDatabase database;
    private TracerboyServer server;

    /** {@code settings} override {@link TestServers}' defaults for the class's server. */
    ServerAndDatabase(Map<String, String> settings) {
        this.settings = settings;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        database = TestDatabase.create();
        server = another(settings);
    }

    /** One more ready server on the same database, closed with the first. */
    TracerboyServer another(Map<String, String> extra) throws Exception {
        TracerboyServer started = TestServers.startServer(database.url(), extra);
        servers.add(started);
        assertThat(started.awaitReady(60_000)).as("the server became ready").isTrue();
        return started;
    }

    /** The class's server. */
    TracerboyServer server() {
        return server;
    }

    /** The class's database. */
    TestDatabase database() {
        return database;
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (int i = servers.size() - 1; i >= 0; i--) {
            servers.get(i).close();
        }
        if (database != null) {
            database.close();
        }
    }
}
