/* Where cameras may be: the network ranges of camera_allow (set once at start, the built-in private
 * and loopback ranges until then), checked before any connection to a camera, and the files a file
 * source may name. */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attendd/cidr.h"
#include "attendd/config.h"
#include "capture_internal.h"

static struct cidr_list g_allow; /* written before threads start (cap_allow_set), then read-only */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void load_default(void)
{
    char err[160];
    if (cidr_list_parse(CFG_CAMERA_ALLOW_DEFAULT, &g_allow, err, sizeof err) != ATT_OK) g_allow.n = 0;
}

att_err cap_allow_set(const char *cidrs, char *err, size_t errlen)
{
    struct cidr_list l;
    att_err e = cidr_list_parse(cidrs, &l, err, errlen);
    if (e != ATT_OK) return e;
    pthread_once(&g_once, load_default);
    g_allow = l;
    return ATT_OK;
}

bool cap_allow_sockaddr(const struct sockaddr *sa)
{
    pthread_once(&g_once, load_default);
    return cidr_list_has(&g_allow, sa);
}

att_err cap_allow_host(const char *host, char *err, size_t errlen)
{
    pthread_once(&g_once, load_default);
    if (cidr_list_has_literal(&g_allow, host) == 0)
        return att_fail(ATT_E_INVALID, err, errlen,
                        "URL host is outside camera_allow (the networks cameras may be on)");
    return ATT_OK;
}

att_err cap_allow_url_resolved(const char *url, char *err, size_t errlen)
{
    struct cap_url u;
    att_err e = cap_url_parse(url, &u, err, errlen);
    if (e != ATT_OK || u.kind != CAP_SRC_RTSP) return e;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(u.host, u.port, &hints, &res);
    if (gai != 0) return att_fail(ATT_E_IO, err, errlen, "cannot resolve the camera host: %s", gai_strerror(gai));
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!cap_allow_sockaddr(ai->ai_addr)) {
            freeaddrinfo(res);
            return att_fail(ATT_E_IO, err, errlen, "the camera's address is outside camera_allow");
        }
    freeaddrinfo(res);
    return ATT_OK;
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

att_err cap_file_source_check(const char *path, char *err, size_t errlen)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(path, real) || stat(real, &st) != 0)
        return att_fail(ATT_E_IO, err, errlen, "cannot open: %s", strerror(errno));
    /* a FIFO would block the process-wide open lock; devices and process files are no videos */
    if (!S_ISREG(st.st_mode) || under(real, "/proc") || under(real, "/sys") || under(real, "/dev"))
        return att_fail(ATT_E_IO, err, errlen, "cannot open: not a regular file");
    return ATT_OK;
}
