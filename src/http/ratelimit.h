/* Failed-authentication limiter: a fixed-size table of client addresses (IPv6 by /64) and presented
 * tokens counting failures in a window; one over the limit is locked out until the lock-out ends. */
#ifndef ATTENDD_HTTP_RATELIMIT_H
#define ATTENDD_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "attendd/errors.h"

#define HTTP_RL_SLOTS 4096 /* addresses tracked at once (~200 KB); the least recently failing is evicted */

typedef struct http_rl http_rl;

/* A limiter allowing limit failures per window_s seconds (limit >= 1, window_s >= 1). */
att_err http_rl_new(int limit, int window_s, http_rl **out);
void http_rl_free(http_rl *rl);

/* Is addr locked out at monotonic time now (seconds)? If so *retry_after_s = whole seconds until
 * the lock-out ends (>= 1). An address of another family than IPv4/IPv6 is never locked out. */
bool http_rl_locked(http_rl *rl, const struct sockaddr *addr, double now, int *retry_after_s);
/* Count one failure from addr at now. Returns true when this failure starts a lock-out (the limit-th
 * failure within the window); the lock-out lasts window_s seconds from now. */
bool http_rl_fail(http_rl *rl, const struct sockaddr *addr, double now);

/* The same per presented token: hash is the first HTTP_RL_TOKEN_BYTES of the token's keyed hash
 * (never the token). Only tokens that fail are counted, so a valid token is never locked out; what
 * this stops is one wrong or revoked token tried from many addresses, each under its own limit. */
#define HTTP_RL_TOKEN_BYTES 16
bool http_rl_token_locked(http_rl *rl, const unsigned char hash[HTTP_RL_TOKEN_BYTES], double now, int *retry_after_s);
bool http_rl_token_fail(http_rl *rl, const unsigned char hash[HTTP_RL_TOKEN_BYTES], double now);

/* The process-wide limiter used by http_auth (auth.c): set by the HTTP server while it runs, NULL
 * when auth_fail_limit is 0 or no server runs. */
void http_rl_set_global(http_rl *rl);
http_rl *http_rl_global(void);

#endif
