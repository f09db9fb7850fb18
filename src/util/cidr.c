/* CIDR range lists: parse "addr/bits" items, test addresses (see cidr.h). */
#include "attendd/cidr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static att_err parse_item(const char *item, struct cidr_range *r, char *err, size_t errlen)
{
    char addr[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(item, '/');
    size_t alen = slash ? (size_t)(slash - item) : strlen(item);
    if (alen == 0 || alen >= sizeof addr) goto bad;
    memcpy(addr, item, alen);
    addr[alen] = '\0';
    memset(r, 0, sizeof *r);
    int max;
    if (inet_pton(AF_INET, addr, r->addr) == 1) {
        r->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, r->addr) == 1) {
        r->family = AF_INET6;
        max = 128;
    } else {
        goto bad;
    }
    r->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end != '\0' || b < 0 || b > max) goto bad;
        r->bits = (int)b;
    }
    for (int i = r->bits; i < max; i++) r->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    return ATT_OK;
bad:
    snprintf(err, errlen, "'%s' is not an address range (a.b.c.d/n or x:y::z/n)", item);
    return ATT_E_CONFIG;
}

att_err cidr_list_parse(const char *text, struct cidr_list *out, char *err, size_t errlen)
{
    out->n = 0;
    const char *p = text ? text : "";
    while (*p) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, " \t,");
        if (n == 0) break;
        char item[INET6_ADDRSTRLEN + 8];
        if (n >= sizeof item) {
            snprintf(err, errlen, "'%.*s...' is not an address range", 20, p);
            return ATT_E_CONFIG;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (out->n == CIDR_LIST_MAX) {
            snprintf(err, errlen, "more than %d address ranges", CIDR_LIST_MAX);
            return ATT_E_CONFIG;
        }
        att_err e = parse_item(item, &out->r[out->n], err, errlen);
        if (e != ATT_OK) return e;
        out->n++;
        p += n;
    }
    return ATT_OK;
}

static bool in_range(const struct cidr_range *r, int family, const unsigned char *a)
{
    if (r->family != family) return false;
    int full = r->bits / 8, rest = r->bits % 8;
    if (memcmp(r->addr, a, (size_t)full) != 0) return false;
    if (rest == 0) return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[full] & mask) == r->addr[full];
}

static bool has(const struct cidr_list *l, int family, const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && memcmp(a, mapped, sizeof mapped) == 0) { /* ::ffff:a.b.c.d */
        family = AF_INET;
        a += 12;
    }
    for (size_t i = 0; i < l->n; i++)
        if (in_range(&l->r[i], family, a)) return true;
    return false;
}

bool cidr_list_has(const struct cidr_list *l, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return has(l, AF_INET, (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return has(l, AF_INET6, (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

int cidr_list_has_literal(const struct cidr_list *l, const char *host)
{
    /* every numeric form the resolver takes ("127.1", "2130706433" too), without asking DNS */
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0) return -1;
    int in = cidr_list_has(l, res->ai_addr) ? 1 : 0;
    freeaddrinfo(res);
    return in;
}
