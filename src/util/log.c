/* Levelled stderr logging in a journald-friendly format (see include/attendd/log.h). */
#include "attendd/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/time.h"

static atomic_int min_level = LOG_INFO_LVL;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error"};
/* syslog priorities, as journald reads them from a "<N>" line prefix */
static const int level_prio[] = {7, 6, 5, 4, 3};

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i <= LOG_ERR_LVL; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level lvl)
{
    return (lvl >= LOG_DEBUG_LVL && lvl <= LOG_ERR_LVL) ? level_names[lvl] : "?";
}

void log_set_level(enum log_level min) { atomic_store(&min_level, (int)min); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&min_level); }

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
{
    if ((int)lvl < atomic_load(&min_level)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one line per record: journald and log shippers split on newlines */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';

    pthread_mutex_lock(&log_lock);
    if (getenv("JOURNAL_STREAM")) {
        fprintf(stderr, "<%d>%s: %s\n", level_prio[lvl], module, msg);
    } else {
        char ts[ATT_TIME_TEXT_MAX];
        (void)att_time_format(att_time_wall_us(), 0, ATT_TIME_UTC_MS, ts, sizeof ts); /* the clock is past 1970 */
        fprintf(stderr, "%s %-7s %s: %s\n", ts, level_names[lvl], module, msg);
    }
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}
