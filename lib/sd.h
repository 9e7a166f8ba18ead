/*
 * sd.h: the small part of the systemd protocols the hub needs, without
 * libsystemd: sd_notify (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) and
 * socket activation (LISTEN_FDS). Both are a few lines of documented
 * protocol; see sd_notify(3) and sd_listen_fds(3).
 */
#ifndef HUB_SD_H
#define HUB_SD_H

#include <stdint.h>

#define HUB_SD_LISTEN_FDS_START 3

/*
 * Send state (e.g. "READY=1\nSTATUS=sampling") to $NOTIFY_SOCKET. Returns 1
 * when sent, 0 when not running under a notify-aware manager, -1 with errno
 * on a send error. Never logs.
 */
int hub_sd_notify(const char *state);

/*
 * The number of sockets passed by socket activation (first one is fd 3),
 * 0 when none were passed or they were meant for another process
 * ($LISTEN_PID). Unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so
 * children do not inherit them, and marks the descriptors close-on-exec.
 */
int hub_sd_listen_fds(void);

/*
 * The watchdog interval in microseconds from $WATCHDOG_USEC (for this
 * process, per $WATCHDOG_PID), or 0 when the watchdog is off. Send
 * "WATCHDOG=1" at least every half of it.
 */
uint64_t hub_sd_watchdog_usec(void);

#endif
