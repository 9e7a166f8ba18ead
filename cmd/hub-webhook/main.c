/*
 * main.c: hub-webhook, the GitHub webhook endpoint. Flags in, exit code
 * out; everything else is webhook_run() (server.c).
 */
#include <stddef.h>
#include <stdio.h>

#include "hub.h"
#include "log.h"
#include "opt.h"
#include "webhook.h"

static const char footer[] =
    "Routes: POST /hooks/github (alias /api/webhook/gitops), GET /health\n"
    "(alias /api/health), GET /metrics.\n"
    "Secret: github_webhook_secret, from $CREDENTIALS_DIRECTORY, the file in\n"
    "$HUB_GITHUB_WEBHOOK_SECRET_FILE, OpenBao ($HUB_BAO_ADDR) or\n"
    "$HUB_GITHUB_WEBHOOK_SECRET; several secrets, one a line, for rotation.\n"
    "Allowlist: GITHUB=owner/name and BRANCH= in $HUB_REPOS_DIR/NAME.conf.\n"
    "Tracing: $HUB_OTLP_ENDPOINT (OTLP/HTTP). Deliveries table: $HUB_PG_DSN.\n"
    "State (replay memory): --state-dir or $STATE_DIRECTORY.\n";

int
webhook_parse_args(struct webhook_opts *o, int argc, char **argv)
{
    const struct hub_opt opts[] = {
        { "body-timeout", 0, "HUB_WEBHOOK_BODY_TIMEOUT", HUB_OPT_UINT, &o->body_timeout_s, 1,
          86400, "SECONDS", "drop a request whose body is not in this long after its headers" },
        { "exec", 0, "HUB_WEBHOOK_EXEC", HUB_OPT_STR, &o->exec, 0, 0, "CMD",
          "hand over by running CMD NAME with the trigger on stdin (no systemd)" },
        { "exec-timeout", 0, "HUB_WEBHOOK_EXEC_TIMEOUT", HUB_OPT_UINT, &o->exec_timeout_s, 1, 86400,
          "SECONDS", "kill an --exec run after this long" },
        { "exit-idle", 0, "HUB_WEBHOOK_EXIT_IDLE", HUB_OPT_UINT, &o->exit_idle_s, 0, 86400,
          "SECONDS", "exit after this long without a connection (0: never)" },
        { "listen", 'l', "HUB_WEBHOOK_LISTEN", HUB_OPT_STR, &o->listen, 0, 0, "ADDR:PORT",
          "listen here when no socket is passed by systemd" },
        { "max-body", 0, "HUB_WEBHOOK_MAX_BODY", HUB_OPT_UINT, &o->max_body, 1024,
          WEBHOOK_MAX_BUFFERED, "BYTES", "larger bodies are refused with 413" },
        { "max-connections", 0, "HUB_WEBHOOK_MAX_CONNECTIONS", HUB_OPT_UINT, &o->max_conns, 1,
          65536, "N", "connections open at once" },
        { "max-header", 0, "HUB_WEBHOOK_MAX_HEADER", HUB_OPT_UINT, &o->max_header, 4096,
          1024 * 1024, "BYTES", "memory per connection for request line and headers" },
        { "max-per-ip", 0, "HUB_WEBHOOK_MAX_PER_IP", HUB_OPT_UINT, &o->max_per_ip, 1, 65536, "N",
          "connections open at once from one address" },
        { "replay", 0, "HUB_WEBHOOK_REPLAY", HUB_OPT_UINT, &o->replay_size, WEBHOOK_REPLAY_MIN,
          1024 * 1024, "N", "delivery GUIDs remembered against replays" },
        { "repos-dir", 0, "HUB_REPOS_DIR", HUB_OPT_STR, &o->repos_dir, 0, 0, "DIR",
          "per-repository configuration (the allowlist)" },
        { "state-dir", 0, "HUB_WEBHOOK_STATE_DIR", HUB_OPT_STR, &o->state_dir, 0, 0, "DIR",
          "keep the replay memory here (default $STATE_DIRECTORY)" },
        { "timeout", 't', "HUB_WEBHOOK_TIMEOUT", HUB_OPT_UINT, &o->timeout_s, 1, 3600, "SECONDS",
          "drop a connection idle this long (slow clients)" },
        { "trigger-dir", 0, "HUB_TRIGGER_DIR", HUB_OPT_STR, &o->trigger_dir, 0, 0, "DIR",
          "write trigger files NAME.json here (unless --exec)" },
    };
    const struct hub_prog prog = {
        "hub-webhook",
        "hub-webhook [--listen ADDR:PORT] [--trigger-dir DIR | --exec CMD] [--exit-idle SECONDS]\n"
        "       [--repos-dir DIR] [--state-dir DIR] [--max-body BYTES] [--timeout SECONDS] ...",
        "Receive GitHub webhooks: verify X-Hub-Signature-256, decide from the allowlist,\n"
        "and hand a trigger for an allowlisted repository to hub-gitops.",
        opts, sizeof opts / sizeof opts[0], footer,
    };
    int first = 0;
    int rc = hub_opt_parse(&prog, argc, argv, &first);

    if (rc == 0 && first < argc) {
        fprintf(stderr, "hub-webhook: unexpected argument '%s'; try 'hub-webhook --help'\n",
                argv[first]);
        return EX_USAGE;
    }
    return rc;
}

int
main(int argc, char **argv)
{
    struct webhook_opts o = WEBHOOK_OPTS_INIT;
    int rc;

    hub_log_init("hub-webhook");
    rc = webhook_parse_args(&o, argc, argv);
    if (rc == HUB_OPT_DONE)
        return 0;
    if (rc != 0)
        return rc;
    return webhook_run(&o);
}
