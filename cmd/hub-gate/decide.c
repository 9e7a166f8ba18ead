/*
 * decide.c: the gate's hysteresis and the action it implies. Pure functions
 * of their arguments: no I/O, no clock, so the unit tests can walk every
 * sequence.
 */
#include "gate.h"

void
gate_state_record(struct gate_state *st, int healthy, unsigned long long rise,
                  unsigned long long fall)
{
    /* Streaks saturate instead of wrapping: a wrap would reopen the count. */
    if (healthy) {
        st->failed_streak = 0;
        if (st->healthy_streak < (unsigned long long)-1)
            st->healthy_streak++;
    } else {
        st->healthy_streak = 0;
        if (st->failed_streak < (unsigned long long)-1)
            st->failed_streak++;
    }
    if (st->healthy_streak >= rise)
        st->want_open = 1;
    else if (st->failed_streak >= fall)
        st->want_open = 0;
}

enum gate_action
gate_action_for(int want_open, enum gate_funnel_state actual)
{
    switch (actual) {
    case GATE_FUNNEL_ON:
        return want_open ? GATE_ACT_NONE : GATE_ACT_CLOSE;
    case GATE_FUNNEL_OFF:
        return want_open ? GATE_ACT_OPEN : GATE_ACT_NONE;
    case GATE_FUNNEL_MISDIRECTED:           /* open re-points it at the webhook */
        return want_open ? GATE_ACT_OPEN : GATE_ACT_CLOSE;
    case GATE_FUNNEL_UNKNOWN:
        break;
    }
    return want_open ? GATE_ACT_NONE : GATE_ACT_CLOSE;
}

const char *
gate_funnel_state_name(enum gate_funnel_state s)
{
    switch (s) {
    case GATE_FUNNEL_ON:
        return "on";
    case GATE_FUNNEL_OFF:
        return "off";
    case GATE_FUNNEL_MISDIRECTED:
        return "misdirected";
    case GATE_FUNNEL_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *
gate_action_name(enum gate_action a)
{
    switch (a) {
    case GATE_ACT_OPEN:
        return "open";
    case GATE_ACT_CLOSE:
        return "close";
    case GATE_ACT_NONE:
        break;
    }
    return "none";
}
