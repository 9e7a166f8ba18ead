/*
 * main.c: hub-gate's command line. Parses flags (each with its HUB_* twin)
 * and calls gate_run(); decides the exit code and nothing else.
 */
#include <signal.h>
#include <stdio.h>

#include "gate.h"
#include "hub.h"
#include "log.h"
#include "opt.h"

static int
parse_args(struct gate_opts *o, int argc, char **argv)
{
    const struct hub_opt opts[] = {
        { "command-timeout", 0, "HUB_GATE_COMMAND_TIMEOUT_MS", HUB_OPT_UINT,
          &o->command_timeout_ms, 100, 600000, "MS", "deadline for each tailscale/systemctl run" },
        { "dry-run", 'n', "HUB_GATE_DRY_RUN", HUB_OPT_FLAG, &o->dry_run, 0, 0, NULL,
          "read the states, print what would be done, change nothing" },
        { "fall", 0, "HUB_GATE_FALL", HUB_OPT_UINT, &o->fall, 1, 1000, "N",
          "close after N consecutive failed checks" },
        { "https-port", 0, "HUB_GATE_HTTPS_PORT", HUB_OPT_UINT, &o->https_port, 1, 65535,
          "PORT", "the funnel's public HTTPS port" },
        { "interval", 'i', "HUB_GATE_INTERVAL", HUB_OPT_UINT, &o->interval_s, 0, 86400,
          "SECONDS", "daemon mode: check every SECONDS (0: one check and exit)" },
        { "keep-on-exit", 0, "HUB_GATE_KEEP_ON_EXIT", HUB_OPT_FLAG, &o->keep_on_exit, 0, 0,
          NULL, "daemon mode: leave the funnel as it is on SIGTERM (default: close it)" },
        { "rise", 0, "HUB_GATE_RISE", HUB_OPT_UINT, &o->rise, 1, 1000, "N",
          "open after N consecutive healthy checks" },
        { "state-dir", 0, "HUB_GATE_STATE_DIR", HUB_OPT_STR, &o->state_dir, 0, 0, "DIR",
          "where timer mode keeps the streaks (default $STATE_DIRECTORY)" },
        { "tailscale", 0, "HUB_TAILSCALE", HUB_OPT_STR, &o->tailscale, 0, 0, "PATH",
          "the Tailscale CLI" },
        { "target-port", 0, "HUB_GATE_TARGET_PORT", HUB_OPT_UINT, &o->target_port, 1, 65535,
          "PORT", "the local port the funnel forwards to" },
        { "timeout", 't', "HUB_GATE_TIMEOUT_MS", HUB_OPT_UINT, &o->health_timeout_ms, 50,
          60000, "MS", "deadline for the health request" },
        { "unit", 0, "HUB_GATE_UNIT", HUB_OPT_STR, &o->unit, 0, 0, "UNIT",
          "also require `systemctl is-active UNIT`" },
        { "url", 'u', "HUB_GATE_URL", HUB_OPT_STR, &o->url, 0, 0, "URL",
          "health endpoint: healthy is 200 with {\"status\":\"ok\"}" },
    };
    const struct hub_prog prog = {
        "hub-gate",
        "hub-gate [-n] [-i SECONDS] [-u URL] [--rise N] [--fall N] [--unit UNIT]",
        "Open the public tailscale funnel only while the webhook is healthy; close it\n"
        "when it is not. Opens after --rise healthy checks in a row, closes after\n"
        "--fall failed ones; a check that cannot run counts as failed. Acts only\n"
        "when `tailscale funnel status --json` differs from the wanted state, so it\n"
        "also undoes changes made by hand. Without --interval it runs one check and\n"
        "keeps the streaks in the state directory (for a timer); with it, it is a\n"
        "notify daemon that closes the funnel on SIGTERM.",
        opts, sizeof opts / sizeof opts[0],
        "Commands run: TAILSCALE funnel status --json,\n"
        "  TAILSCALE funnel --bg --https=PORT TARGET_PORT (open),\n"
        "  TAILSCALE funnel --https=PORT off (close), systemctl is-active UNIT.\n",
    };
    int first = 0;
    int rc = hub_opt_parse(&prog, argc, argv, &first);

    if (rc != 0)
        return rc;
    if (first < argc) {
        fprintf(stderr, "hub-gate: unexpected argument '%s'; try 'hub-gate --help'\n",
                argv[first]);
        return EX_USAGE;
    }
    if (o->url == NULL || o->url[0] == '\0' || o->tailscale == NULL || o->tailscale[0] == '\0') {
        fprintf(stderr, "hub-gate: --url and --tailscale must not be empty\n");
        return EX_USAGE;
    }
    if (o->unit != NULL && o->unit[0] == '\0')
        o->unit = NULL;
    return 0;
}

int
main(int argc, char **argv)
{
    struct gate_opts o = GATE_OPTS_INIT;
    int rc;

    hub_log_init("hub-gate");
    signal(SIGPIPE, SIG_IGN);
    rc = parse_args(&o, argc, argv);
    if (rc == HUB_OPT_DONE)
        return 0;
    if (rc != 0)
        return rc;
    return gate_run(&o);
}
