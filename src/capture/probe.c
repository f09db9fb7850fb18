/* RTSP pre-flight: TCP connect + OPTIONS before VideoCapture opens a stream. OpenCV 4.6 opens
 * FFmpeg captures under ONE process-wide mutex, so a dead camera inside its open timeout would
 * hold every other camera's (re)connect; this check fails dead URLs without taking that lock. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture_internal.h"

#define SLICE_MS 100 /* cancellation is checked this often */

/* Wait for events on fd until deadline; 1 ready, 0 timed out, -1 cancelled or error. */
static int wait_fd(int fd, short events, int64_t deadline_us, cap_cancel_fn cancelled, void *arg)
{
    for (;;) {
        if (cancelled && cancelled(arg)) return -1;
        int64_t left = (deadline_us - att_time_mono_us()) / 1000;
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left < SLICE_MS ? (int)left : SLICE_MS);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

att_err cap_rtsp_probe(const char *url, int timeout_ms, cap_cancel_fn cancelled, void *arg, char *err, size_t errlen)
{
    struct cap_url u;
    if (cap_url_parse(url, &u, err, errlen) != ATT_OK || u.kind != CAP_SRC_RTSP)
        return att_fail(ATT_E_INVALID, err, errlen, "not an RTSP URL");
    int tls = u.tls;
    const char *host = u.host, *port = u.port;
    const char *hp = url + u.hostport_off, *rest = url + u.rest_off;
    size_t hplen = u.hostport_len;

    int64_t deadline = att_time_mono_us() + (int64_t)timeout_ms * 1000;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) return att_fail(ATT_E_IO, err, errlen, "cannot resolve the camera host: %s", gai_strerror(gai));

    /* every address, not just the one tried first: FFmpeg resolves the name again and may take another */
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!cap_allow_sockaddr(ai->ai_addr)) {
            freeaddrinfo(res);
            return att_fail(ATT_E_IO, err, errlen, "the camera's address is outside camera_allow");
        }
    int fd = -1;
    char why[128] = "no address";
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline, cancelled, arg);
            if (w <= 0) {
                close(fd);
                freeaddrinfo(res);
                if (w < 0 && cancelled && cancelled(arg)) return att_fail(ATT_E_UNAVAILABLE, err, errlen, "cancelled");
                return att_fail(ATT_E_IO, err, errlen, "no TCP connection within %d ms", timeout_ms);
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            rc = soerr ? -1 : 0;
            errno = soerr;
        }
        if (rc != 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) return att_fail(ATT_E_IO, err, errlen, "TCP connection failed: %s", why);
    if (tls) { /* no TLS client here: the connection is all rtsps is checked for */
        close(fd);
        return ATT_OK;
    }

    /* OPTIONS needs no authentication; the request-URI carries no userinfo */
    char req[CAP_URL_MAX + 128];
    int n = snprintf(req, sizeof req, "OPTIONS rtsp://%.*s%s RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: attendd\r\n\r\n",
                     (int)hplen, hp, rest);
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            int r = wait_fd(fd, POLLOUT, deadline, cancelled, arg);
            if (r > 0) continue;
            close(fd);
            if (r < 0) return att_fail(ATT_E_UNAVAILABLE, err, errlen, "cancelled");
            return att_fail(ATT_E_IO, err, errlen, "no RTSP answer within %d ms", timeout_ms);
        }
        int e = errno;
        close(fd);
        return att_fail(ATT_E_IO, err, errlen, "sending RTSP OPTIONS: %s", strerror(e));
    }
    char buf[16];
    size_t got = 0;
    while (got < 5) {
        int r = wait_fd(fd, POLLIN, deadline, cancelled, arg);
        if (r <= 0) {
            close(fd);
            if (r < 0 && cancelled && cancelled(arg)) return att_fail(ATT_E_UNAVAILABLE, err, errlen, "cancelled");
            return att_fail(ATT_E_IO, err, errlen, "connected, but no RTSP answer within %d ms", timeout_ms);
        }
        ssize_t k = recv(fd, buf + got, sizeof buf - got, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (k <= 0) {
            close(fd);
            return att_fail(ATT_E_IO, err, errlen, "connection closed before an RTSP answer");
        }
        got += (size_t)k;
    }
    close(fd);
    if (strncmp(buf, "RTSP/", 5) != 0) return att_fail(ATT_E_IO, err, errlen, "the server does not speak RTSP");
    return ATT_OK;
}
