/*
 * run.c: one gate check, and the two ways of running it.
 *
 * Timer mode (no --interval) runs one check and keeps the streaks in the
 * state directory between runs. --dry-run never writes that directory (the
 * daemon keeps its streaks in memory) and never changes the funnel. Daemon
 * mode (--interval) checks every interval as a Type=notify service: READY
 * after the first check, WATCHDOG pings while waiting, STATUS after each
 * check; SIGTERM and SIGINT are blocked and taken with sigtimedwait() between checks (no handler, no
 * global flag), and end the loop by closing the funnel unless
 * --keep-on-exit. A check in progress is never cut short: its commands
 * have deadlines of their own.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>

#include "gate.h"
#include "hub.h"
#include "log.h"
#include "sd.h"
#include "timefmt.h"

static const char *
state_dir(const struct gate_opts *o)
{
    const char *d = o->state_dir != NULL ? o->state_dir : getenv("STATE_DIRECTORY");

    return d != NULL && d[0] != '\0' ? d : NULL;
}

static const char *
close_reason(const struct gate_state *st)
{
    return st->failed_streak > 0 ? "check_failed" : "not_yet_healthy";
}

static void
log_check(const struct gate_opts *o, const struct gate_health *h, const struct gate_state *st,
          enum gate_funnel_state funnel, enum gate_action act, int rc)
{
    hub_log(rc != 0 || !h->healthy ? HUB_LOG_WARN : HUB_LOG_INFO, "gate_check",
            HUB_BOOL("healthy", h->healthy), HUB_STR("reason", h->reason),
            HUB_INT("http_status", h->http_status),
            h->detail[0] != '\0' ? HUB_STR("detail", h->detail) : HUB_FIELD_NONE_,
            o->unit != NULL ? HUB_STR("unit", o->unit) : HUB_FIELD_NONE_,
            HUB_INT("healthy_streak", st->healthy_streak),
            HUB_INT("failed_streak", st->failed_streak),
            HUB_STR("wanted", st->want_open ? "open" : "closed"),
            HUB_STR("funnel", gate_funnel_state_name(funnel)),
            HUB_STR("action", gate_action_name(act)), HUB_BOOL("dry_run", o->dry_run),
            HUB_BOOL("ok", rc == 0));
}

/* Carry out act; log the transition only once the state read back says so. */
static int
apply(const struct gate_opts *o, const struct gate_state *st, enum gate_action act,
      enum gate_funnel_state *funnel, const char *reason)
{
    enum gate_funnel_state was = *funnel;
    int rc;

    if (act == GATE_ACT_NONE)
        return 0;
    if (o->dry_run) {
        hub_log(HUB_LOG_INFO, "dry_run", HUB_STR("would", gate_action_name(act)),
                HUB_STR("funnel", gate_funnel_state_name(*funnel)));
        return 0;
    }
    rc = gate_funnel_set(o, act == GATE_ACT_OPEN, funnel);
    if (rc != 0)
        return rc;
    hub_log(HUB_LOG_INFO, act == GATE_ACT_OPEN ? "funnel_opened" : "funnel_closed",
            HUB_INT("https_port", o->https_port), HUB_INT("target_port", o->target_port),
            HUB_STR("reason", act == GATE_ACT_OPEN ? "healthy" : reason),
            HUB_STR("was", gate_funnel_state_name(was)),
            HUB_INT("healthy_streak", st->healthy_streak),
            HUB_INT("failed_streak", st->failed_streak));
    return 0;
}

/*
 * One check: health, streaks (saved to dir when not NULL), then the funnel.
 * Any failed command makes the check fail; an unhealthy webhook does not
 * (closing the funnel is the gate doing its job).
 *
 * A dry run advances the streaks in *st too but never saves them: the
 * daemon keeps them in memory from check to check, so with --rise 2 or more
 * it still gets to "would open"; a timer-mode dry run drops them on exit.
 */
static int
check_once(const struct gate_opts *o, struct gate_state *st, const char *dir,
           enum gate_funnel_state *funnel)
{
    struct gate_health h;
    enum gate_action act;
    int rc = 0, status_rc, act_rc;

    gate_health_check(o, &h);
    gate_state_record(st, h.healthy, o->rise, o->fall);
    if (!o->dry_run && dir != NULL)
        rc = gate_state_save(dir, st);
    status_rc = gate_funnel_status(o, funnel);
    act = gate_action_for(st->want_open, *funnel);
    act_rc = apply(o, st, act, funnel, close_reason(st));
    if (act_rc != 0)
        rc = act_rc;
    else if (status_rc != 0)
        rc = status_rc;
    log_check(o, &h, st, *funnel, act, rc);
    return rc;
}

static int
run_once(const struct gate_opts *o)
{
    struct gate_state st;
    enum gate_funnel_state funnel;
    const char *dir = state_dir(o);
    int rc = gate_state_load(dir, &st);

    if (rc != 0)
        return rc;
    return check_once(o, &st, dir, &funnel);
}

static void
notify_status(const struct gate_state *st, enum gate_funnel_state funnel, int rc)
{
    char status[160];

    snprintf(status, sizeof status,
             "WATCHDOG=1\nSTATUS=funnel %s, wanted %s; %llu healthy / %llu failed in a row%s",
             gate_funnel_state_name(funnel), st->want_open ? "open" : "closed",
             st->healthy_streak, st->failed_streak, rc != 0 ? "; last check failed" : "");
    hub_sd_notify(status);
}

/*
 * Wait until the next check is due, pinging the watchdog at half its
 * interval. Returns the signal that asked us to stop, or 0 when it is time.
 */
static int
wait_next(const sigset_t *stop, int64_t due_ms, uint64_t watchdog_usec)
{
    int64_t ping_ms = watchdog_usec > 0 ? (int64_t)(watchdog_usec / 2000) : 0;

    for (;;) {
        int64_t now = hub_time_mono_ms(), wait_ms = due_ms - now;
        struct timespec ts;
        int sig;

        if (wait_ms <= 0)
            return 0;
        if (ping_ms > 0 && wait_ms > ping_ms)
            wait_ms = ping_ms;
        ts.tv_sec = (time_t)(wait_ms / 1000);
        ts.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
        sig = sigtimedwait(stop, NULL, &ts);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN && ping_ms > 0)
            hub_sd_notify("WATCHDOG=1");
    }
}

/* On the way out: close the funnel, and forget the streak so a restart earns it again. */
static int
close_on_exit(const struct gate_opts *o, struct gate_state *st, const char *dir)
{
    enum gate_funnel_state funnel;
    int rc, status_rc, act_rc;

    if (o->keep_on_exit || o->dry_run) {
        hub_log(HUB_LOG_INFO, "gate_stopping", HUB_STR("funnel", "left as it is"));
        return 0;
    }
    *st = (struct gate_state)GATE_STATE_INIT;
    rc = dir != NULL ? gate_state_save(dir, st) : 0;
    status_rc = gate_funnel_status(o, &funnel);
    act_rc = apply(o, st, gate_action_for(0, funnel), &funnel, "shutdown");
    if (act_rc != 0)
        return act_rc;
    if (status_rc != 0 && funnel != GATE_FUNNEL_OFF)
        return status_rc;
    hub_log(HUB_LOG_INFO, "gate_stopping", HUB_STR("funnel", gate_funnel_state_name(funnel)));
    return rc;
}

static int
run_daemon(const struct gate_opts *o)
{
    struct gate_state st;
    enum gate_funnel_state funnel;
    const char *dir = state_dir(o);
    uint64_t watchdog_usec = hub_sd_watchdog_usec();
    sigset_t stop;
    int rc, sig = 0, ready = 0;

    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    /* In daemon mode the state directory is optional: it only bridges restarts. */
    if (dir != NULL)
        gate_state_load(dir, &st);
    else
        st = (struct gate_state)GATE_STATE_INIT;
    hub_log(HUB_LOG_INFO, "gate_started", HUB_INT("interval_s", o->interval_s),
            HUB_INT("rise", o->rise), HUB_INT("fall", o->fall), HUB_STR("url", o->url),
            HUB_BOOL("dry_run", o->dry_run));
    while (sig == 0) {
        int64_t due = hub_time_mono_ms() + (int64_t)o->interval_s * 1000;

        rc = check_once(o, &st, dir, &funnel);
        notify_status(&st, funnel, rc);
        if (!ready) {
            hub_sd_notify("READY=1");
            ready = 1;
        }
        sig = wait_next(&stop, due, watchdog_usec);
    }
    hub_sd_notify("STOPPING=1");
    hub_log(HUB_LOG_INFO, "gate_signal", HUB_INT("signal", sig));
    return close_on_exit(o, &st, dir);
}

int
gate_run(const struct gate_opts *o)
{
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return hub_fail(EX_SOFTWARE, "curl_init_failed");
    rc = o->interval_s > 0 ? run_daemon(o) : run_once(o);
    curl_global_cleanup();
    return rc;
}
