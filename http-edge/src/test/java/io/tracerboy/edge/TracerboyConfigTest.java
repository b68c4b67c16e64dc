package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tracerboy.storage.EnginePreference;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class TracerboyConfigTest {
    private static TracerboyConfig fromEnv(Map<String, String> env) {
        return TracerboyConfig.load(new String[0], new Properties(), env);
    }

    @Test
    void defaultsNeedNoConfigurationAtAll() {
        TracerboyConfig config = fromEnv(Map.of());
        assertThat(config.databaseUrl()).isNull();
        assertThat(config.port()).isEqualTo(9090);
        assertThat(config.batchSizeEvents()).isEqualTo(10_000);
        assertThat(config.flushIntervalMs()).isEqualTo(100);
        assertThat(config.ringSizeSlots()).isEqualTo(262_144);
        assertThat(config.dbPoolSize()).isEqualTo(4);
        assertThat(config.ioThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(config.storageEngine()).isEqualTo(EnginePreference.AUTO);
        assertThat(config.shutdownTimeoutMs()).isEqualTo(30_000);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "BATCH_SIZE|0|BATCH_SIZE: expected an integer 1..1000000, found '0'",
        "BATCH_SIZE|ten|BATCH_SIZE: expected an integer 1..1000000, found 'ten'",
        "BATCH_SIZE|1000001|BATCH_SIZE: expected an integer 1..1000000, found '1000001'",
        "PORT|65536|PORT: expected an integer 0..65535, found '65536'",
        "PORT|-1|PORT: expected an integer 0..65535, found '-1'",
        "FLUSH_INTERVAL_MS|1.5|FLUSH_INTERVAL_MS: expected an integer 0..60000, found '1.5'",
        "RING_SIZE|1000|RING_SIZE: expected a power of two 64..67108864, found '1000'",
        "RING_SIZE|32|RING_SIZE: expected a power of two 64..67108864, found '32'",
        "DB_POOL_SIZE|1|DB_POOL_SIZE: expected an integer 2..200, found '1'",
        "IO_THREADS|0|IO_THREADS: expected an integer 1..1024, found '0'",
        "STORAGE_ENGINE|mysql|STORAGE_ENGINE: expected auto, timescaledb or postgresql, found 'mysql'",
        "DATABASE_URL|postgres://u:secret@db/x|DATABASE_URL: expected a JDBC URL such as "
                + "jdbc:postgresql://host:5432/tracerboy?user=u&password=p, found 'postgres://u:****@db/x'",
        "SHUTDOWN_TIMEOUT_MS|forever|SHUTDOWN_TIMEOUT_MS: expected an integer 0..3600000, found 'forever'",
    })
    void refusesABadValueNamingTheSettingWhatWasExpectedAndWhatWasFound(String name, String value, String message) {
        assertThatThrownBy(() -> fromEnv(Map.of(name, value))).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void committedAcknowledgementsFlushWithoutLingeringUnlessToldOtherwise() {
        assertThat(fromEnv(Map.of("ACK_MODE", "committed")).flushIntervalMs()).isZero();
        assertThat(fromEnv(Map.of("ACK_MODE", "committed", "FLUSH_INTERVAL_MS", "5")).flushIntervalMs()).isEqualTo(5);
        assertThat(fromEnv(Map.of("ACK_MODE", "buffered")).ackMode()).isEqualTo(AckMode.BUFFERED);
        assertThatThrownBy(() -> fromEnv(Map.of("ACK_MODE", "eventually")))
                .hasMessage("ACK_MODE: expected buffered or committed, found 'eventually'");
    }

    @Test
    void theCommandLineWinsOverPropertiesWhichWinOverTheEnvironment() {
        Properties properties = new Properties();
        properties.setProperty("tracerboy.batch-size", "200");
        properties.setProperty("tracerboy.port", "8000");
        TracerboyConfig config = TracerboyConfig.load(new String[] {"--batch-size=300"}, properties,
                Map.of("BATCH_SIZE", "100", "PORT", "7000", "RING_SIZE", "1024"));
        assertThat(config.batchSizeEvents()).isEqualTo(300);
        assertThat(config.port()).isEqualTo(8000);
        assertThat(config.ringSizeSlots()).isEqualTo(1024);
    }

    @Test
    void namesTheSourceOfABadValue() {
        assertThatThrownBy(() -> TracerboyConfig.load(new String[] {"--batch-size=0"}, new Properties(), Map.of()))
                .hasMessage("--batch-size: expected an integer 1..1000000, found '0'");
        Properties properties = new Properties();
        properties.setProperty("tracerboy.port", "x");
        assertThatThrownBy(() -> TracerboyConfig.load(new String[0], properties, Map.of()))
                .hasMessage("tracerboy.port: expected an integer 0..65535, found 'x'");
    }

    @Test
    void refusesUnknownSettings() {
        assertThatThrownBy(() -> fromEnv(Map.of("TRACERBOY_BATCHSIZE", "5")))
                .hasMessage("TRACERBOY_BATCHSIZE: unknown setting; expected one of those listed by --help");
        assertThatThrownBy(() -> TracerboyConfig.load(new String[] {"--bach-size=5"}, new Properties(), Map.of()))
                .hasMessage("--bach-size=5: unknown option; expected --option=value, see --help");
    }

    @Test
    void anOptionGivenWithoutItsValueSaysItNeedsOne() {
        assertThatThrownBy(() -> TracerboyConfig.load(new String[] {"--port"}, new Properties(), Map.of()))
                .hasMessage("--port: expected a value, as --port=…");
        assertThatThrownBy(() -> TracerboyConfig.load(new String[] {"--port", "9091"}, new Properties(), Map.of()))
                .hasMessage("--port: expected a value, as --port=…");
    }

    @Test
    void masksPasswordsWhenDescribed() {
        TracerboyConfig config = fromEnv(Map.of("DATABASE_URL",
                "jdbc:postgresql://db:5432/t?user=u&password=hunter2&ssl=true", "DATABASE_PASSWORD", "hunter3"));
        assertThat(config.describe().toString()).doesNotContain("hunter2").doesNotContain("hunter3")
                .contains("DATABASE_URL=jdbc:postgresql://db:5432/t?user=u&password=****&ssl=true");
    }

    @Test
    void helpListsEverySettingWithItsDefault() {
        String help = TracerboyConfig.help();
        for (TracerboyConfig.Setting setting : TracerboyConfig.Setting.values()) {
            assertThat(help).contains(setting.optionName()).contains(setting.envName());
        }
        assertThat(help).contains("default: 10000");
    }
}
