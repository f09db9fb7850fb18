/* Lists of network address ranges in CIDR notation ("10.0.0.0/8 fc00::/7, 127.0.0.1"): parsed once,
 * then asked whether an address is inside. IPv4-mapped IPv6 addresses count as their IPv4 form. */
#ifndef ATTENDD_CIDR_H
#define ATTENDD_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "attendd/errors.h"

#define CIDR_LIST_MAX 64 /* ranges in one list */

struct cidr_range {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network address, host bits cleared (4 bytes used for AF_INET) */
    int bits;               /* prefix length: 0..32 or 0..128 */
};

struct cidr_list {
    size_t n;                           /* ranges in use */
    struct cidr_range r[CIDR_LIST_MAX]; /* in the order written */
};

/* Parse ranges separated by spaces or commas; an address without "/n" is one host. An empty text
 * is an empty list (nothing inside). ATT_E_CONFIG with err naming the bad item otherwise. */
att_err cidr_list_parse(const char *text, struct cidr_list *out, char *err, size_t errlen);
/* Whether the socket address (AF_INET or AF_INET6) is inside one of the ranges. */
bool cidr_list_has(const struct cidr_list *l, const struct sockaddr *sa);
/* For a numeric host (an address in any form the resolver takes, IPv6 without brackets): 1 inside,
 * 0 outside; -1 when host is a name (resolve it and ask cidr_list_has). */
int cidr_list_has_literal(const struct cidr_list *l, const char *host);

#endif
