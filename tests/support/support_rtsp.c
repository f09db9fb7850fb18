/* Test support (see support_rtsp.h): runs tests/tools/rtsp-server.py with Debian's python3,
 * waits for its READY line, stops it with SIGTERM; loopback ports that refuse or stay silent. */
#include "support_rtsp.h"
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define READY_TIMEOUT_MS 20000

/* One attempt: fork/exec the server, read stdout until "READY <port>\n" or exit/timeout.
 * Returns 0 and fills s->pid/s->port; -1 with the child reaped. */
static int spawn(struct ts_rtsp *s, int port)
{
    const char *src = getenv("ATTENDD_SRCDIR");
    if (!src || !*src) {
        fprintf(stderr, "ts_rtsp: ATTENDD_SRCDIR is not set (run the tests through make)\n");
        return -1;
    }
    char script[1024], port_s[16], copies_s[16];
    snprintf(script, sizeof script, "%s/tests/tools/rtsp-server.py", src);
    snprintf(port_s, sizeof port_s, "%d", port);
    snprintf(copies_s, sizeof copies_s, "%d", s->copies);
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        /* the server must not outlive a test process that failed an assertion */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(PYTHON, PYTHON, script, "--clip", s->clip, "--port", port_s, "--copies", copies_s,
              s->once       ? "--once"
                  : s->live ? "--live"
                            : (char *)NULL,
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[256];
    size_t used = 0;
    int got = -1;
    long long deadline = ts_now_ms() + READY_TIMEOUT_MS;
    while (got < 0) {
        long long left = deadline - ts_now_ms();
        if (left <= 0) break;
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) break;
        ssize_t n = read(fds[0], buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* exited */
        used += (size_t)n;
        buf[used] = '\0';
        char *r = strstr(buf, "READY ");
        if (r && strchr(r, '\n')) got = atoi(r + 6);
        if (used == sizeof buf - 1) break;
    }
    close(fds[0]);
    if (got <= 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    s->pid = pid;
    s->port = got;
    return 0;
}

static int start(struct ts_rtsp *s, const char *clip, int port, int copies, int once, int live)
{
    memset(s, 0, sizeof *s);
    snprintf(s->clip, sizeof s->clip, "%s", clip);
    s->copies = copies;
    s->once = once;
    s->live = live;
    if (spawn(s, port) != 0) {
        fprintf(stderr, "ts_rtsp: the RTSP server did not start (port %d)\n", port);
        return -1;
    }
    return 0;
}

int ts_rtsp_start(struct ts_rtsp *s, const char *clip, int port, int copies)
{
    return start(s, clip, port, copies, 0, 0);
}

int ts_rtsp_start_once(struct ts_rtsp *s, const char *clip, int port, int copies)
{
    return start(s, clip, port, copies, 1, 0);
}

int ts_rtsp_start_live(struct ts_rtsp *s, const char *clip, int port, int copies)
{
    return start(s, clip, port, copies, 0, 1);
}

int ts_rtsp_stop(struct ts_rtsp *s)
{
    if (!s->pid) return 0;
    kill(s->pid, SIGTERM);
    int status = 0;
    long long deadline = ts_now_ms() + 5000;
    for (;;) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid) break;
        if (r < 0 && errno != EINTR) break;
        if (ts_now_ms() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            s->pid = 0;
            return -1;
        }
        usleep(20000);
    }
    s->pid = 0;
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
}

int ts_rtsp_restart(struct ts_rtsp *s)
{
    ts_rtsp_stop(s);
    long long deadline = ts_now_ms() + 10000;
    do {
        if (spawn(s, s->port) == 0) return 0;
        usleep(200000);
    } while (ts_now_ms() < deadline);
    fprintf(stderr, "ts_rtsp: could not restart the RTSP server on port %d\n", s->port);
    return -1;
}

void ts_rtsp_url(const struct ts_rtsp *s, int copy, char *out, size_t len)
{
    if (copy > 0) snprintf(out, len, "rtsp://127.0.0.1:%d/cam%d", s->port, copy);
    else snprintf(out, len, "rtsp://127.0.0.1:%d/cam", s->port);
}

static int bind_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

int ts_free_port(void)
{
    int port = -1;
    int fd = bind_loopback(&port);
    if (fd < 0) return -1;
    close(fd);
    return port;
}

int ts_silent_listener(int *port)
{
    int fd = bind_loopback(port);
    if (fd < 0) return -1;
    if (listen(fd, 16) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
