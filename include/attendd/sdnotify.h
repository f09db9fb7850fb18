/* systemd readiness/watchdog notifications over $NOTIFY_SOCKET (the plain datagram protocol, so
 * no libsystemd dependency). Every call is a no-op when not run under systemd. */
#ifndef ATTENDD_SDNOTIFY_H
#define ATTENDD_SDNOTIFY_H

#include <stdint.h>

/* Send one state string ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."). Returns 0 when sent
 * or when there is no NOTIFY_SOCKET, -1 (errno set) when the send failed. */
int sdn_notify(const char *state);
/* Watchdog interval from $WATCHDOG_USEC (only if $WATCHDOG_PID is unset or ours); 0 if none. */
uint64_t sdn_watchdog_usec(void);

#endif
