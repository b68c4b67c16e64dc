package io.tracerboy.edge;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A validator's description is the range it checks: both come from the one declaration. */
class ValidatorTest {
    @Test
    void aRangeAcceptsItsEndsRefusesPastThemAndDescribesThem() {
        Validator<Integer> range = Validator.intRange(1, 1_024);
        assertThat(range.describe()).isEqualTo("an integer 1..1024");
        assertThat(range.parse("1")).isEqualTo(1);
        assertThat(range.parse("1024")).isEqualTo(1_024);
        assertThat(range.parse("0")).isNull();
        assertThat(range.parse("1025")).isNull();
        assertThat(range.parse("-3")).isNull();
    }

    @Test
    void aWordBeforeARangeStandsForItsValueAndJoinsTheDescription() {
        Validator<Long> flush = Validator.or("auto", Setting.AUTO, Validator.range(0, 60_000));
        assertThat(flush.describe()).isEqualTo("auto or an integer 0..60000");
        assertThat(flush.parse("auto")).isEqualTo(Setting.AUTO);
        assertThat(flush.parse("60000")).isEqualTo(60_000L);
        assertThat(flush.parse("60001")).isNull();
    }

    @Test
    void aPowerOfTwoRefusesOtherNumbersInItsRange() {
        Validator<Integer> ring = Validator.powerOfTwo(64, 1 << 26);
        assertThat(ring.describe()).isEqualTo("a power of two 64..67108864");
        assertThat(ring.parse("65536")).isEqualTo(65_536);
        assertThat(ring.parse("96")).isNull();
        assertThat(ring.parse("32")).isNull();
    }

    @Test
    void theSettingsStateWhatTheirValidatorsCheck() {
        assertThat(Setting.RING_SIZE.accepted()).isEqualTo("a power of two 64..67108864");
        assertThat(Setting.RING_SIZE.defaultText()).isEqualTo("262144 slots");
        assertThat(Setting.EVENT_ID_RETENTION_HOURS.accepted()).isEqualTo("an integer 1..87600");
        assertThat(Setting.ACK_MODE.accepted()).isEqualTo("buffered or committed");
    }
}
