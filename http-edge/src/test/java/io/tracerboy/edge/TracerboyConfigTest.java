package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.tracerboy.storage.EnginePreference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TracerboyConfigTest {
    private static TracerboyConfig fromEnv(Map<String, String> env) {
        return TracerboyConfig.load(new String[0], new Properties(), env);
    }

    @Test
    void defaultsNeedNoConfigurationAtAll() {
        TracerboyConfig config = fromEnv(Map.of());
        assertThat(config.get(Setting.DATABASE_URL)).isNull();
        assertThat(config.get(Setting.PORT)).isEqualTo(9090);
        assertThat(config.get(Setting.BATCH_SIZE)).isEqualTo(10_000);
        assertThat(config.get(Setting.FLUSH_INTERVAL_MS)).isEqualTo(100);
        assertThat(config.get(Setting.RING_SIZE)).isEqualTo(262_144);
        assertThat(config.get(Setting.DB_POOL_SIZE)).isEqualTo(4);
        assertThat(config.get(Setting.IO_THREADS)).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(config.get(Setting.STORAGE_ENGINE)).isEqualTo(EnginePreference.AUTO);
        assertThat(config.get(Setting.SHUTDOWN_TIMEOUT_MS)).isEqualTo(30_000);
    }

    @Test
    void thePoolHasAConnectionPerWriterLaneAndSomeToSpare() {
        assertThat(fromEnv(Map.of("WRITER_LANES", "4")).get(Setting.DB_POOL_SIZE)).isEqualTo(7);
        assertThat(fromEnv(Map.of("WRITER_LANES", "4", "DB_POOL_SIZE", "5")).get(Setting.DB_POOL_SIZE)).isEqualTo(5);
        assertThatThrownBy(() -> fromEnv(Map.of("WRITER_LANES", "4", "DB_POOL_SIZE", "4")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("DB_POOL_SIZE: expected more than WRITER_LANES (4), found '4'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "BATCH_SIZE|0|BATCH_SIZE: expected an integer 1..1000000, found '0'",
        "BATCH_SIZE|ten|BATCH_SIZE: expected an integer 1..1000000, found 'ten'",
        "BATCH_SIZE|1000001|BATCH_SIZE: expected an integer 1..1000000, found '1000001'",
        "PORT|65536|PORT: expected an integer 0..65535, found '65536'",
        "PORT|-1|PORT: expected an integer 0..65535, found '-1'",
        "FLUSH_INTERVAL_MS|1.5|FLUSH_INTERVAL_MS: expected auto or an integer 0..60000, found '1.5'",
        "TARGET_LAG_MS|0|TARGET_LAG_MS: expected an integer 1..60000, found '0'",
        "ADMIN_TOKEN|short secret|ADMIN_TOKEN: expected a token of 16..1024 visible ASCII characters, found a hidden "
                + "value of 12 characters",
        "ADMIN_TOKEN_FILE|/nonexistent/token|ADMIN_TOKEN_FILE: expected a readable file holding a token of 16..1024 "
                + "visible ASCII characters, found '/nonexistent/token'",
        "RING_SIZE|1000|RING_SIZE: expected a power of two 64..67108864, found '1000'",
        "RING_SIZE|32|RING_SIZE: expected a power of two 64..67108864, found '32'",
        "DB_POOL_SIZE|1|DB_POOL_SIZE: expected an integer 2..200, found '1'",
        "WRITER_LANES|0|WRITER_LANES: expected an integer 1..16, found '0'",
        "WRITER_LANES|many|WRITER_LANES: expected an integer 1..16, found 'many'",
        "IO_THREADS|0|IO_THREADS: expected an integer 1..1024, found '0'",
        "STORAGE_ENGINE|mysql|STORAGE_ENGINE: expected auto, timescaledb, postgresql or citus, found 'mysql'",
        "DATABASE_URL|postgres://u:secret@db/x|DATABASE_URL: expected a JDBC URL such as "
                + "jdbc:postgresql://host:5432/tracerboy?user=u&password=p, found 'postgres://u:****@db/x'",
        "SHUTDOWN_TIMEOUT_MS|forever|SHUTDOWN_TIMEOUT_MS: expected an integer 0..3600000, found 'forever'",
    })
    void refusesABadValueNamingTheSettingWhatWasExpectedAndWhatWasFound(String name, String value, String message) {
        assertThatThrownBy(() -> fromEnv(Map.of(name, value))).isInstanceOf(ConfigException.class).hasMessage(message);
    }

    @Test
    void theFlushIntervalMayBeAutoAndTheAdminTokenComesFromOneSourceOnly(@TempDir Path dir) throws Exception {
        assertThat(fromEnv(Map.of("FLUSH_INTERVAL_MS", "auto")).get(Setting.FLUSH_INTERVAL_MS)).isEqualTo(Setting.AUTO);
        assertThat(fromEnv(Map.of()).adminToken()).isNull();
        Path file = Files.writeString(dir.resolve("token"), "from-a-file-0123456789\n");
        TracerboyConfig fromFile = fromEnv(Map.of("ADMIN_TOKEN_FILE", file.toString()));
        assertThat(fromFile.adminToken()).isEqualTo("from-a-file-0123456789");
        assertThat(fromFile.describe()).containsEntry("ADMIN_TOKEN_FILE", "****");
        assertThat(fromEnv(Map.of("ADMIN_TOKEN", "from-the-env-0123456789")).describe())
                .containsEntry("ADMIN_TOKEN", "****");
        assertThatThrownBy(() -> fromEnv(Map.of("ADMIN_TOKEN", "from-the-env-0123456789", "ADMIN_TOKEN_FILE",
                file.toString())))
                .hasMessage("ADMIN_TOKEN_FILE: expected unset when ADMIN_TOKEN is set, found both set");
    }

    @Test
    void committedAcknowledgementsFlushWithoutLingeringUnlessToldOtherwise() {
        assertThat(fromEnv(Map.of("ACK_MODE", "committed")).get(Setting.FLUSH_INTERVAL_MS)).isZero();
        assertThat(fromEnv(Map.of("ACK_MODE", "committed", "FLUSH_INTERVAL_MS", "5")).get(
                Setting.FLUSH_INTERVAL_MS)).isEqualTo(5);
        assertThat(fromEnv(Map.of("ACK_MODE", "buffered")).get(Setting.ACK_MODE)).isEqualTo(AckMode.BUFFERED);
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
        assertThat(config.get(Setting.BATCH_SIZE)).isEqualTo(300);
        assertThat(config.get(Setting.PORT)).isEqualTo(8000);
        assertThat(config.get(Setting.RING_SIZE)).isEqualTo(1024);
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
    void helpListsEachOptionWithItsVariableDefaultAcceptedValuesAndMeaningInAlignedColumns() throws Exception {
        String help = TracerboyConfig.help();
        assertThat(help).startsWith("Usage: java -jar tracerboy.jar [--option=value ...]\n")
                .contains("  --batch-size=…                BATCH_SIZE                default: 10000 events\n"
                        + "      accepted: an integer 1..1000000\n"
                        + "      most events per COPY transaction\n")
                .contains("  --db-pool-size=…              DB_POOL_SIZE              default: "
                        + "WRITER_LANES + 3 connections\n"
                        + "      accepted: an integer 2..200\n");
        List<String> options = help.lines().filter(line -> line.startsWith("  --")).toList();
        // One option per row of the README's table, which is checked against the declarations below.
        assertThat(options).hasSize(readmeRows().size());
        for (Setting<?> setting : Setting.ALL) {
            String option = options.stream().filter(line -> line.startsWith("  " + setting.optionName() + "=…"))
                    .findFirst().orElseThrow();
            assertThat(option.indexOf(setting.envName() + " ")).as(option)
                    .isEqualTo(options.get(0).indexOf("DATABASE_URL"));
            assertThat(option.indexOf("default: ")).as(option).isEqualTo(options.get(0).indexOf("default: "));
            assertThat(help).contains(option + "\n      accepted: " + setting.accepted() + "\n");
        }
    }

    /** A row of the README's configuration table, backticks removed. */
    private record ReadmeRow(String defaultText, String accepted) {
    }

    /** The README's configuration table, by variable. */
    private static Map<String, ReadmeRow> readmeRows() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String section = readme.substring(readme.indexOf("\n## Configuration\n"));
        section = section.substring(0, section.indexOf("\n## ", 1));
        assertThat(section).contains("\n| variable / option | default | accepted values | what it controls |\n");
        Map<String, ReadmeRow> rows = new LinkedHashMap<>();
        Matcher row = Pattern.compile("(?m)^\\| `([A-Z_]+)`[^|]*\\| ([^|]*) \\| ([^|]*) \\|").matcher(section);
        while (row.find()) {
            rows.put(row.group(1), new ReadmeRow(row.group(2).replace("`", ""), row.group(3).replace("`", "")));
        }
        return rows;
    }

    @Test
    void theReadmeConfigurationTableListsExactlyTheDeclaredSettingsWithTheirDefaultsAndAcceptedValues()
            throws Exception {
        Map<String, ReadmeRow> rows = readmeRows();
        assertThat(rows.keySet()).containsExactlyElementsOf(Setting.ALL.stream().map(Setting::envName).toList());
        for (Setting<?> setting : Setting.ALL) {
            assertThat(rows.get(setting.envName()).defaultText()).as("README default of %s", setting.envName())
                    .startsWith(setting.defaultText());
            assertThat(rows.get(setting.envName()).accepted()).as("README accepted values of %s", setting.envName())
                    .isEqualTo(setting.accepted());
        }
    }

    @Test
    void theAcceptedValuesShownAreTheOnesTheMessageOfABadValueNames() {
        for (Setting<?> setting : Setting.ALL) {
            int refused = 0;
            for (String bad : List.of(" ", "not a value!")) {
                Throwable thrown = catchThrowable(() -> fromEnv(Map.of(setting.envName(), bad)));
                if (thrown != null) {
                    assertThat(thrown).as(setting.envName()).isInstanceOf(ConfigException.class)
                            .hasMessageStartingWith(setting.envName() + ": expected " + setting.accepted()
                                    + ", found ");
                    refused++;
                }
            }
            if (!setting.accepted().equals("text")) {
                assertThat(refused).as("bad values of %s refused", setting.envName()).isPositive();
            }
        }
    }

    @Test
    void aBatchLargerThanTheRingIsAllowedSinceTheWriterEmptiesTheRingAsItFillsTheBatch() {
        assertThat(fromEnv(Map.of("RING_SIZE", "1024", "BATCH_SIZE", "2000")).get(Setting.BATCH_SIZE)).isEqualTo(2000);
    }

    @Test
    void eventIdsCannotOutliveTheEventsThatHoldThemAndUnsetTheyFollowAShorterEventRetention() {
        assertThatThrownBy(() -> fromEnv(Map.of("EVENT_RETENTION_HOURS", "12", "EVENT_ID_RETENTION_HOURS", "24")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("EVENT_ID_RETENTION_HOURS: expected at most EVENT_RETENTION_HOURS (12), found '24'");
        assertThat(fromEnv(Map.of("EVENT_RETENTION_HOURS", "12")).get(Setting.EVENT_ID_RETENTION_HOURS)).isEqualTo(12);
        TracerboyConfig defaults = fromEnv(Map.of());
        assertThat(List.of(defaults.get(Setting.EVENT_RETENTION_HOURS), defaults.get(Setting.USER_RETENTION_HOURS),
                defaults.get(Setting.EVENT_ID_RETENTION_HOURS))).containsExactly(168, 168, 24);
    }

    @Test
    void anEmptyDatabaseUrlMeansTheEmbeddedDatabase() {
        assertThat(fromEnv(Map.of("DATABASE_URL", "")).get(Setting.DATABASE_URL)).isNull();
        assertThat(fromEnv(Map.of()).describe()).containsEntry("DATABASE_URL", "(embedded PostgreSQL)")
                .containsEntry("DATABASE_PASSWORD", "(from URL)").containsEntry("BATCH_SIZE", "10000")
                .containsEntry("ACK_MODE", "buffered");
    }
}
