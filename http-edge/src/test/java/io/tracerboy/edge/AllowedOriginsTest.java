package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AllowedOriginsTest {
    private static final String EXPECTED = "CORS_ALLOWED_ORIGINS: expected * or a comma-separated list of origins like "
            + "https://shop.example (scheme://host[:port], no path), found ";

    private static AllowedOrigins parse(String value) {
        return AllowedOrigins.parse("CORS_ALLOWED_ORIGINS", value);
    }

    @Test
    void aStarAllowsEveryOriginIncludingNull() {
        AllowedOrigins any = parse(" * ");
        assertThat(any.isAny()).isTrue();
        assertThat(any.allows("https://anything.example")).isTrue();
        assertThat(any.allows("null")).isTrue();
        assertThat(any).hasToString("*");
    }

    @Test
    void aListAllowsExactlyItsOriginsWrittenAsBrowsersSendThem() {
        AllowedOrigins list = parse("HTTPS://Shop.Example:443, https://www.shop.example,http://localhost:8080");
        assertThat(list.isAny()).isFalse();
        assertThat(list.allows("https://shop.example")).isTrue();
        assertThat(list.allows("https://www.shop.example")).isTrue();
        assertThat(list.allows("http://localhost:8080")).isTrue();
        assertThat(list.allows("http://shop.example")).as("another scheme").isFalse();
        assertThat(list.allows("https://shop.example:8443")).as("another port").isFalse();
        assertThat(list.allows("https://evil.shop.example")).isFalse();
        assertThat(list.allows("null")).isFalse();
        assertThat(list).hasToString("http://localhost:8080,https://shop.example,https://www.shop.example");
    }

    @Test
    void refusesWhatIsNotAnOriginNamingTheEntry() {
        assertThatThrownBy(() -> parse("https://shop.example/")).isInstanceOf(ConfigException.class)
                .hasMessage(EXPECTED + "'https://shop.example/'");
        assertThatThrownBy(() -> parse("https://shop.example,shop.example")).hasMessage(EXPECTED + "'shop.example'");
        assertThatThrownBy(() -> parse("ftp://shop.example")).hasMessage(EXPECTED + "'ftp://shop.example'");
        assertThatThrownBy(() -> parse("https://me@shop.example")).hasMessage(EXPECTED + "'https://me@shop.example'");
        assertThatThrownBy(() -> parse("*,https://shop.example")).hasMessage(EXPECTED + "'*'");
        assertThatThrownBy(() -> parse("https://a.example,,https://b.example"))
                .hasMessage(EXPECTED + "'' (an empty entry) in 'https://a.example,,https://b.example'");
        assertThatThrownBy(() -> parse("")).hasMessage(EXPECTED + "nothing");
    }
}
