/* test_gate_decide.c: hub-gate's hysteresis (rise/fall streaks, the wanted
 * state) and the action it implies for each actual funnel state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cmd/hub-gate/gate.h"

/*
 * Each case feeds a sequence of checks ('+' healthy, '-' failed) from the
 * initial state and lists the wanted state after each one ('o' open,
 * 'c' closed).
 */
static void
test_hysteresis_table(void **state)
{
    static const struct {
        unsigned long long rise, fall;
        const char *checks;
        const char *want;
    } cases[] = {
        { 2, 1, "+", "c" },                    /* one healthy check is not enough */
        { 2, 1, "++", "co" },                  /* the rise count opens */
        { 2, 1, "++-", "coc" },                /* the first failure closes */
        { 2, 1, "++-+", "cocc" },              /* one healthy check does not reopen */
        { 2, 1, "++-++", "cocco" },            /* a new rise streak does */
        { 2, 1, "+-+-+-", "cccccc" },          /* flapping never opens */
        { 1, 1, "+-+", "oco" },
        { 3, 2, "+++-", "ccoo" },              /* fall 2: one failure holds open */
        { 3, 2, "+++--", "ccooc" },
        { 3, 2, "+++-+-", "ccoooo" },          /* failures not in a row: stays open */
        { 3, 2, "--+++", "cccco" },            /* starts closed, stays closed until rise */
        { 1, 3, "+--+--", "oooooo" },
        { 2, 1, "", "" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gate_state st = GATE_STATE_INIT;
        size_t n = strlen(cases[i].checks);

        assert_int_equal(n, strlen(cases[i].want));
        for (size_t j = 0; j < n; j++) {
            gate_state_record(&st, cases[i].checks[j] == '+', cases[i].rise, cases[i].fall);
            if (st.want_open != (cases[i].want[j] == 'o'))
                fail_msg("case %zu (%s rise %llu fall %llu): after check %zu want %c",
                         i, cases[i].checks, cases[i].rise, cases[i].fall, j + 1,
                         cases[i].want[j]);
        }
    }
}

static void
test_streaks_count_and_reset(void **state)
{
    struct gate_state st = GATE_STATE_INIT;

    gate_state_record(&st, 1, 2, 1);
    gate_state_record(&st, 1, 2, 1);
    gate_state_record(&st, 1, 2, 1);
    assert_int_equal(st.healthy_streak, 3);
    assert_int_equal(st.failed_streak, 0);
    gate_state_record(&st, 0, 2, 1);
    assert_int_equal(st.healthy_streak, 0);
    assert_int_equal(st.failed_streak, 1);
}

static void
test_streak_saturates(void **state)
{
    struct gate_state st = { (unsigned long long)-1, 0, 1 };

    gate_state_record(&st, 1, 2, 1);
    assert_true(st.healthy_streak == (unsigned long long)-1);
    assert_int_equal(st.want_open, 1);
}

static void
test_action_table(void **state)
{
    static const struct {
        int want_open;
        enum gate_funnel_state actual;
        enum gate_action act;
    } cases[] = {
        { 1, GATE_FUNNEL_OFF, GATE_ACT_OPEN },
        { 1, GATE_FUNNEL_ON, GATE_ACT_NONE },      /* already matches */
        { 0, GATE_FUNNEL_ON, GATE_ACT_CLOSE },
        { 0, GATE_FUNNEL_OFF, GATE_ACT_NONE },     /* already matches */
        { 0, GATE_FUNNEL_UNKNOWN, GATE_ACT_CLOSE },/* fail closed */
        { 1, GATE_FUNNEL_UNKNOWN, GATE_ACT_NONE }, /* never open blind */
        { 1, GATE_FUNNEL_MISDIRECTED, GATE_ACT_OPEN },  /* re-point at the webhook */
        { 0, GATE_FUNNEL_MISDIRECTED, GATE_ACT_CLOSE },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(gate_action_for(cases[i].want_open, cases[i].actual), cases[i].act);
}

static void
test_names(void **state)
{
    assert_string_equal(gate_funnel_state_name(GATE_FUNNEL_ON), "on");
    assert_string_equal(gate_funnel_state_name(GATE_FUNNEL_OFF), "off");
    assert_string_equal(gate_funnel_state_name(GATE_FUNNEL_UNKNOWN), "unknown");
    assert_string_equal(gate_funnel_state_name(GATE_FUNNEL_MISDIRECTED), "misdirected");
    assert_string_equal(gate_action_name(GATE_ACT_OPEN), "open");
    assert_string_equal(gate_action_name(GATE_ACT_CLOSE), "close");
    assert_string_equal(gate_action_name(GATE_ACT_NONE), "none");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hysteresis_table),
        cmocka_unit_test(test_streaks_count_and_reset),
        cmocka_unit_test(test_streak_saturates),
        cmocka_unit_test(test_action_table),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
