/* Checks for short display text (names, departments, search strings) taken from users: valid UTF-8
 * with no control characters, so it is safe in logs, listings, CSV and the audit log. */
#ifndef ATTENDD_TEXT_H
#define ATTENDD_TEXT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Number of characters (code points) in s if it is valid UTF-8 (no overlong forms, surrogates or
 * values beyond U+10FFFF) without control characters (C0, DEL, C1); -1 otherwise. s is NUL-ended. */
long text_chars(const char *s);

/* 1 if s holds between min_chars and max_chars characters per text_chars, else 0. */
int text_ok(const char *s, long min_chars, long max_chars);

#ifdef __cplusplus
}
#endif

#endif
