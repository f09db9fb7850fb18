/* Logging to stderr: levelled, one line per message; journald priority prefixes (<N>) when
 * stderr is the journal (JOURNAL_STREAM set), ISO-8601 timestamps otherwise. Thread-safe. */
#ifndef ATTENDD_LOG_H
#define ATTENDD_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum log_level { LOG_DEBUG_LVL = 0, LOG_INFO_LVL, LOG_NOTICE_LVL, LOG_WARN_LVL, LOG_ERR_LVL };

/* Parse "debug|info|notice|warning|error"; returns 0 on success, -1 on an unknown name. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level lvl);
void log_set_level(enum log_level min);
enum log_level log_get_level(void);

/* module: a short tag ("http", "db"...). Never pass secrets, tokens, embeddings or names at info level. */
void log_msg(enum log_level lvl, const char *module, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_msg(LOG_DEBUG_LVL, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO_LVL, mod, __VA_ARGS__)
#define log_notice(mod, ...) log_msg(LOG_NOTICE_LVL, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN_LVL, mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERR_LVL, mod, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
