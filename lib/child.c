/*
 * child.c: the child-process runner (see child.h).
 *
 * Waiting: a pidfd (Linux 5.3+) tells poll() when the child has exited, so a
 * git call that takes 2 ms costs 2 ms, not a polling tick; where pidfd_open
 * is missing we fall back to a 10 ms waitpid(WNOHANG) tick. The child's
 * process group is killed at the deadline so that grandchildren (ssh under
 * git, a shell's pipeline) die with it, and once the child has exited we
 * stop reading after a short drain, since a stray grandchild may keep the
 * output pipe open forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

extern char **environ;

#define DEFAULT_GRACE_MS 2000
#define DRAIN_AFTER_EXIT_MS 200
#define FALLBACK_TICK_MS 10

struct run_state {
    pid_t pid;
    int pidfd;                /* -1 when unavailable */
    int out_fd;               /* read end of stdout+stderr, -1 when closed */
    int in_fd;                /* write end of stdin, -1 when closed */
    size_t in_off;
    int reaped;
    int status;
    int64_t deadline;         /* monotonic ms; 0 none */
    int64_t kill_at;          /* when SIGKILL follows SIGTERM; 0 not yet */
    int64_t drain_until;      /* after exit, stop reading then */
};

/* Environment: ours with overrides, or exactly the given entries. */
static char **
build_env(const struct hub_child *spec)
{
    size_t nours = 0, nadd = 0, n = 0;
    char **env;

    if (spec->env == NULL)
        return environ;
    while (spec->env[nadd] != NULL)
        nadd++;
    if (!spec->env_replace)
        while (environ[nours] != NULL)
            nours++;
    env = calloc(nours + nadd + 1, sizeof *env);
    if (env == NULL)
        return NULL;
    for (size_t i = 0; i < nours; i++) {
        size_t klen = strcspn(environ[i], "=") + 1;
        int overridden = 0;

        for (size_t j = 0; j < nadd && !overridden; j++)
            overridden = strncmp(environ[i], spec->env[j], klen) == 0;
        if (!overridden)
            env[n++] = environ[i];
    }
    for (size_t j = 0; j < nadd; j++)
        env[n++] = (char *)spec->env[j];
    return env;
}

static int
spawn(const struct hub_child *spec, struct run_state *st, int out_w, int in_r)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dflt;
    char **env = build_env(spec);
    int err;

    if (env == NULL)
        return ENOMEM;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigfillset(&dflt);
    if (in_r >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_r, STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_w, STDERR_FILENO);
    if (spec->cwd != NULL)
        posix_spawn_file_actions_addchdir_np(&fa, spec->cwd);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
    err = posix_spawnp(&st->pid, spec->argv[0], &fa, &attr, (char *const *)spec->argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (env != environ)
        free(env);
    return err;
}

static void
close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void
read_output(struct run_state *st, struct hub_child_result *res, size_t cap)
{
    char chunk[8192];
    ssize_t n = read(st->out_fd, chunk, sizeof chunk);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close_fd(&st->out_fd);
        return;
    }
    size_t keep = res->output.len < cap ? cap - res->output.len : 0;
    if (keep > (size_t)n)
        keep = (size_t)n;
    if (keep > 0 && hub_buf_append(&res->output, chunk, keep) != HUB_BUF_OK)
        keep = 0;
    res->output_dropped += (size_t)n - keep;
}

static void
write_input(const struct hub_child *spec, struct run_state *st)
{
    ssize_t n = write(st->in_fd, spec->input + st->in_off, spec->input_len - st->in_off);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0) {               /* EPIPE: the child does not want the rest */
        close_fd(&st->in_fd);
        return;
    }
    st->in_off += (size_t)n;
    if (st->in_off >= spec->input_len)
        close_fd(&st->in_fd);
}

/*
 * Reap the child once it has exited. After a timeout, the rest of its group
 * (a transport under git that ignores SIGTERM) gets SIGKILL first, while the
 * unreaped leader still holds the group id: once reaped, the id could be
 * reused by an unrelated process.
 */
static void
try_reap(struct run_state *st, const struct hub_child_result *res, int64_t now)
{
    siginfo_t si = { 0 };

    if (st->reaped)
        return;
    if (waitid(P_PID, (id_t)st->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
        return;
    if (res->timed_out)
        kill(-st->pid, SIGKILL);
    while (waitpid(st->pid, &st->status, 0) < 0 && errno == EINTR)
        ;
    st->reaped = 1;
    st->drain_until = now + DRAIN_AFTER_EXIT_MS;
    close_fd(&st->in_fd);
}

/* Deadline handling: SIGTERM to the group, then SIGKILL after the grace. */
static void
enforce_deadline(const struct hub_child *spec, struct run_state *st,
                 struct hub_child_result *res, int64_t now)
{
    if (st->deadline != 0 && !res->timed_out && now >= st->deadline) {
        res->timed_out = 1;
        kill(-st->pid, SIGTERM);
        st->kill_at = now + (spec->grace_ms ? spec->grace_ms : DEFAULT_GRACE_MS);
    }
    if (st->kill_at != 0 && now >= st->kill_at) {
        kill(-st->pid, SIGKILL);
        st->kill_at = 0;
    }
}

static int
poll_timeout(const struct run_state *st, int64_t now)
{
    int64_t next = INT64_MAX;

    if (st->deadline != 0 && now < st->deadline)
        next = st->deadline;
    if (st->kill_at != 0 && st->kill_at < next)
        next = st->kill_at;
    if (st->reaped && st->drain_until < next)
        next = st->drain_until;
    if (st->pidfd < 0 && !st->reaped)
        return FALLBACK_TICK_MS;
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now);
}

static void
wait_loop(const struct hub_child *spec, struct run_state *st, struct hub_child_result *res,
          size_t cap)
{
    for (;;) {
        struct pollfd pf[3];
        nfds_t n = 0;
        int64_t now = hub_time_mono_ms();

        try_reap(st, res, now);
        enforce_deadline(spec, st, res, now);
        if (st->reaped && (st->out_fd < 0 || now >= st->drain_until))
            break;
        if (st->out_fd >= 0)
            pf[n++] = (struct pollfd){ .fd = st->out_fd, .events = POLLIN };
        if (st->in_fd >= 0)
            pf[n++] = (struct pollfd){ .fd = st->in_fd, .events = POLLOUT };
        if (st->pidfd >= 0 && !st->reaped)
            pf[n++] = (struct pollfd){ .fd = st->pidfd, .events = POLLIN };
        if (poll(pf, n, poll_timeout(st, now)) < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; i < n; i++) {
            if (pf[i].revents == 0)
                continue;
            if (pf[i].fd == st->out_fd)
                read_output(st, res, cap);
            else if (pf[i].fd == st->in_fd)
                write_input(spec, st);
        }
    }
    if (!st->reaped) {
        kill(-st->pid, SIGKILL);
        while (waitpid(st->pid, &st->status, 0) < 0 && errno == EINTR)
            ;
        st->reaped = 1;
    }
}

static void
set_result(const struct run_state *st, struct hub_child_result *res, int64_t start)
{
    res->duration_ms = hub_time_mono_ms() - start;
    if (WIFEXITED(st->status)) {
        res->exited = 1;
        res->exit_code = WEXITSTATUS(st->status);
    } else if (WIFSIGNALED(st->status)) {
        res->signal = WTERMSIG(st->status);
    }
}

/* One started child: what it runs and where it is. */
struct hub_child_proc {
    const struct hub_child *spec;
    struct run_state st;
    int64_t start;
};

static void
proc_close(struct hub_child_proc *p)
{
    close_fd(&p->st.out_fd);
    close_fd(&p->st.in_fd);
    close_fd(&p->st.pidfd);
    free(p);
}

static void
result_init(const struct hub_child *spec, struct hub_child_result *res)
{
    hub_buf_init(&res->output, spec->output_max ? spec->output_max : HUB_MAX_CHILD_OUTPUT);
    res->exited = res->exit_code = res->signal = res->timed_out = 0;
    res->output_dropped = 0;
    res->duration_ms = 0;
}

int
hub_child_start(const struct hub_child *spec, struct hub_child_proc **out)
{
    struct hub_child_proc *p = calloc(1, sizeof *p);
    int out_pipe[2] = { -1, -1 }, in_pipe[2] = { -1, -1 };
    int err = ENOMEM;

    *out = NULL;
    if (p == NULL)
        return EX_OSERR;
    p->spec = spec;
    p->st = (struct run_state){ .pid = -1, .pidfd = -1, .out_fd = -1, .in_fd = -1 };
    p->start = hub_time_mono_ms();
    if (pipe2(out_pipe, O_CLOEXEC) != 0 ||
        (spec->input != NULL && pipe2(in_pipe, O_CLOEXEC) != 0))
        err = errno;
    else
        err = spawn(spec, &p->st, out_pipe[1], in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&in_pipe[0]);
    p->st.out_fd = out_pipe[0];
    p->st.in_fd = in_pipe[1];
    if (err != 0) {
        proc_close(p);
        errno = err;
        return (err == ENOENT || err == EACCES) ? EX_UNAVAILABLE : EX_OSERR;
    }
    fcntl(p->st.out_fd, F_SETFL, O_NONBLOCK);
    if (p->st.in_fd >= 0)
        fcntl(p->st.in_fd, F_SETFL, O_NONBLOCK);
    p->st.pidfd = (int)syscall(SYS_pidfd_open, p->st.pid, 0);
    if (spec->timeout_ms != 0)
        p->st.deadline = p->start + spec->timeout_ms;
    *out = p;
    return 0;
}

void
hub_child_finish(struct hub_child_proc *p, struct hub_child_result *res)
{
    result_init(p->spec, res);
    wait_loop(p->spec, &p->st, res, res->output.max);
    set_result(&p->st, res, p->start);
    proc_close(p);
}

int
hub_child_run(const struct hub_child *spec, struct hub_child_result *res)
{
    struct hub_child_proc *p;
    int rc = hub_child_start(spec, &p);

    if (rc != 0) {
        int err = errno;

        result_init(spec, res);
        errno = err;
        return rc;
    }
    hub_child_finish(p, res);
    return 0;
}

int
hub_child_ok(const struct hub_child_result *res)
{
    return res->exited && res->exit_code == 0 && !res->timed_out;
}

/* The argv joined by spaces, for a person to read (never to run), cut at
 * the buffer's cap: "tailscale funnel --https=8443 off". */
static void
join_argv(const char *const *argv, struct hub_buf *out)
{
    for (size_t i = 0; argv[i] != NULL; i++) {
        if ((i > 0 && hub_buf_appendc(out, ' ') != HUB_BUF_OK) ||
            hub_buf_appends(out, argv[i]) != HUB_BUF_OK)
            return;                     /* too long: what fitted is enough */
    }
}

void
hub_child_log(int level, const char *msg, const struct hub_child *spec,
              const struct hub_child_result *res)
{
    struct hub_buf command = HUB_BUF_INIT(HUB_MAX_CHILD_LOGGED);
    size_t n = res->output.len;
    char *cut = NULL;

    if (n > HUB_MAX_CHILD_LOGGED) {
        cut = strndup(hub_buf_str(&res->output), HUB_MAX_CHILD_LOGGED);
    }
    join_argv(spec->argv, &command);
    hub_log((enum hub_log_level)level, msg, HUB_STR("command", hub_buf_str(&command)),
            res->exited ? HUB_INT("exit_code", res->exit_code) : HUB_FIELD_NONE_,
            res->signal ? HUB_INT("signal", res->signal) : HUB_FIELD_NONE_,
            HUB_BOOL("timed_out", res->timed_out), HUB_INT("duration_ms", res->duration_ms),
            HUB_STR("output", cut ? cut : hub_buf_str(&res->output)),
            HUB_BOOL("output_truncated", cut != NULL || res->output_dropped > 0));
    free(cut);
    hub_buf_release(&command);
}

void
hub_child_result_release(struct hub_child_result *res)
{
    hub_buf_release(&res->output);
}
