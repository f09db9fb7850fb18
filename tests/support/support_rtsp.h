/* Test support: a real RTSP server (tests/tools/rtsp-server.py, GStreamer's RTSP server library)
 * as a child process serving a clip on 127.0.0.1, which tests stop and restart on the same port. */
#ifndef ATTENDD_TESTS_SUPPORT_RTSP_H
#define ATTENDD_TESTS_SUPPORT_RTSP_H

#include <stddef.h>
#include <sys/types.h>

struct ts_rtsp {
    pid_t pid;       /* server process, 0 when stopped */
    int port;        /* bound port (kept across stop/restart) */
    int copies;      /* 0: one mount "/cam"; N: "/cam1".."/camN" */
    int once;        /* each mount plays to one client, then 404 (--once) */
    int live;        /* each mount is a live camera: clients join the one playing (--live) */
    char clip[1024]; /* absolute path of the clip served */
};

/* Start serving clip (absolute path) on 127.0.0.1:port (0 = a free port, chosen by the server
 * itself, so there is no race); copies as above. Returns 0 once the server printed READY, -1
 * on failure (message on stderr). The server gets SIGTERM if the test process dies. */
int ts_rtsp_start(struct ts_rtsp *s, const char *clip, int port, int copies);
/* The same with --once: each mount serves the clip to one client only (no replay on reconnect). */
int ts_rtsp_start_once(struct ts_rtsp *s, const char *clip, int port, int copies);
/* The same with --live: each mount plays the clip once, from its first client's PLAY, and every
 * client joins at the current position (a camera taken over by another instance, a reconnect). */
int ts_rtsp_start_live(struct ts_rtsp *s, const char *clip, int port, int copies);
/* SIGTERM and wait (SIGKILL after 5 s). Returns 0 if it exited by itself. No-op when stopped. */
int ts_rtsp_stop(struct ts_rtsp *s);
/* Start again on the same port and mounts (retries for a few seconds while the port is busy). */
int ts_rtsp_restart(struct ts_rtsp *s);
/* "rtsp://127.0.0.1:PORT/cam" (copy 0) or ".../camN" (copy N >= 1). */
void ts_rtsp_url(const struct ts_rtsp *s, int copy, char *out, size_t len);

/* A loopback port with nothing listening (bound, then closed: nothing will answer). */
int ts_free_port(void);
/* A loopback socket that accepts TCP connections (kernel backlog) but never says a word.
 * Returns the listening fd (close it to stop) and its port in *port; -1 on failure. */
int ts_silent_listener(int *port);

#endif
