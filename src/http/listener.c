/* The listening socket (bound here so bind errors are exact and the port known) and the open-file
 * limit the configured connections need. */
#include "server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attendd/log.h"

/* Create, bind and listen on addr:port (IPv4 or IPv6 literal, brackets optional). */
att_err http_listen(const char *addr, int port, int *fd_out, uint16_t *port_out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    char host[64];
    size_t al = strlen(addr);
    if (al >= 2 && addr[0] == '[' && addr[al - 1] == ']' && al - 2 < sizeof host) {
        memcpy(host, addr + 1, al - 2);
        host[al - 2] = '\0';
    } else {
        snprintf(host, sizeof host, "%s", addr);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sl = sizeof *s4;
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sl = sizeof *s6;
    } else {
        snprintf(err, errlen, "listen_address '%s' is not an IPv4 or IPv6 address literal", addr);
        return ATT_E_CONFIG;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return ATT_E_IO;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* restart while old sockets linger */
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one); /* exactly this address */
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", addr, port, strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
        snprintf(err, errlen, "getsockname: %s", strerror(errno));
        close(fd);
        return ATT_E_IO;
    }
    *port_out = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                 : ((struct sockaddr_in6 *)&bound)->sin6_port);
    *fd_out = fd;
    return ATT_OK;
}

/* Descriptors the daemon needs besides its HTTP connections: database pool, cameras, epoll and
 * inter-thread pipes, spool, logs. Generous: running out only refuses connections. */
#define FD_RESERVE 256

/* Raise the soft RLIMIT_NOFILE to the hard one (systemd starts services at 1024 soft) and check
 * that max_connections fit; otherwise accept() would fail with EMFILE under load, well below the
 * configured limit, and that is the moment not to find out. */
att_err http_raise_fd_limit(const struct att_config *cfg, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return ATT_E_IO;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)rl.rlim_max,
                     strerror(errno));
            return ATT_E_IO;
        }
        log_info("http", "open-file limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_cur);
    }
    rlim_t need = (rlim_t)cfg->max_connections + FD_RESERVE + (rlim_t)cfg->db_pool_size;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        snprintf(err, errlen,
                 "max_connections %d needs about %llu open files, but the hard limit (RLIMIT_NOFILE) is %llu: "
                 "raise it (LimitNOFILE= in the unit, ulimit -Hn) or lower max_connections",
                 cfg->max_connections, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
        return ATT_E_CONFIG;
    }
    return ATT_OK;
}
