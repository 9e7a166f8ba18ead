/*
 * metrics-notify: a stand-in for systemd's notify socket, for the daemon
 * test of hub-metrics. Binds a Unix datagram socket at PATH and appends
 * every message it receives to OUTFILE, one line per message (newlines
 * inside a message become spaces), until SIGTERM.
 *
 * usage: metrics-notify PATH OUTFILE
 * Exit 0 on SIGTERM, 64 usage, 71 socket or file failure.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char msg[4096];
    FILE *out;
    int fd;

    if (argc != 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
        fprintf(stderr, "usage: metrics-notify PATH OUTFILE\n");
        return 64;
    }
    signal(SIGTERM, SIG_DFL);
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    unlink(argv[1]);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    out = fopen(argv[2], "a");
    if (fd < 0 || out == NULL || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return 71;
    for (;;) {
        ssize_t n = recv(fd, msg, sizeof msg - 1, 0);

        if (n < 0)
            return 71;
        for (ssize_t i = 0; i < n; i++) {
            if (msg[i] == '\n')
                msg[i] = ' ';
        }
        msg[n] = '\0';
        fprintf(out, "%s\n", msg);
        fflush(out);
    }
}
