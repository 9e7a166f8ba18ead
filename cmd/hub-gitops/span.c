/*
 * span.c: the run's span. When the trigger carried a W3C traceparent (the
 * webhook delivery's span) the run's span is its child, so Tempo shows
 * "push received -> checkout synced -> APPLY" as one trace. Tracing is off
 * unless $HUB_OTLP_ENDPOINT is set, and a collector that is down never
 * slows or fails a sync (trace.h: bounded queue, bounded flush at exit).
 */
#include <string.h>

#include "gitops.h"
#include "log.h"
#include "trace.h"

#define FLUSH_MS 1000

void
gitops_trace_start(struct gitops_ctx *ctx)
{
    /* An unusable endpoint is logged by hub_tracer_start; syncs go on. */
    if (hub_tracer_start("hub-gitops", NULL, &ctx->tracer) != 0)
        ctx->tracer = NULL;
}

void
gitops_trace_stop(struct gitops_ctx *ctx)
{
    hub_tracer_stop(ctx->tracer, FLUSH_MS);
    ctx->tracer = NULL;
}

static void
set_attrs(struct hub_span *sp, const struct gitops_run *run)
{
    const struct gitops_trigger *t = run->trigger;
    int code = gitops_outcome_exit(run->outcome);

    hub_span_set_str(sp, "hub.repo", run->repo->name);
    hub_span_set_str(sp, "hub.branch", run->repo->branch);
    hub_span_set_str(sp, "hub.outcome", gitops_outcome_name(run->outcome));
    hub_span_set_int(sp, "hub.exit_code", code);
    hub_span_set_str(sp, "hub.trigger", t->source);
    hub_span_set_str(sp, "vcs.revision.old", run->old_rev);
    hub_span_set_str(sp, "vcs.revision.new", run->new_rev);
    hub_span_set_int(sp, "hub.commits", run->commits);
    if (run->apply_exit >= 0)
        hub_span_set_int(sp, "hub.apply_exit_code", run->apply_exit);
    if (t->delivery[0] != '\0')
        hub_span_set_str(sp, "github.delivery", t->delivery);
    if (code != 0)
        hub_span_set_status(sp, HUB_SPAN_ERROR, run->error[0] ? run->error
                                                               : gitops_outcome_name(run->outcome));
    else
        hub_span_set_status(sp, HUB_SPAN_OK, NULL);
}

void
gitops_trace_run(struct gitops_ctx *ctx, const struct gitops_run *run, char *trace_id,
                 size_t trace_id_len)
{
    struct hub_trace_ctx parent;
    int have_parent = run->trigger->traceparent[0] != '\0' &&
                      hub_trace_parse(run->trigger->traceparent, &parent) == 0;
    struct hub_span sp;

    if (trace_id_len < 2 * HUB_TRACE_ID_LEN + 1)
        return;
    trace_id[0] = '\0';
    if (ctx->tracer == NULL) {
        /* No exporter: the row still names the trigger's trace. */
        if (have_parent)
            hub_trace_hex(parent.trace_id, HUB_TRACE_ID_LEN, trace_id);
        return;
    }
    hub_span_start(&sp, "gitops.sync", have_parent ? HUB_SPAN_CONSUMER : HUB_SPAN_INTERNAL,
                   have_parent ? &parent : NULL);
    sp.start_ns = run->started_ns;
    set_attrs(&sp, run);
    hub_span_end(&sp);
    hub_tracer_submit(ctx->tracer, &sp);
    hub_trace_hex(sp.ctx.trace_id, HUB_TRACE_ID_LEN, trace_id);
}
