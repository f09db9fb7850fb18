/* Internal to the request specs: the value checks JSON bodies and query strings share. */
#ifndef ATTENDD_HTTP_SPEC_VALUE_H
#define ATTENDD_HTTP_SPEC_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "request_spec.h"

enum spec_fault { SPEC_OK, SPEC_TOO_SHORT, SPEC_TOO_LONG, SPEC_BAD_VALUE };

/* Whether values of type t arrive as JSON strings. */
bool spec_is_string(enum http_vtype t);
/* Check s (len bytes) as a value of f's string type and fill f's outputs on success. */
enum spec_fault spec_text_value(const struct http_field *f, const char *s, size_t len);
/* The rule a bad value of f breaks ("must be a uuid"): f->rule or the type's wording. */
void spec_rule(const struct http_field *f, char *out, size_t outlen);
/* values (NULL-terminated) as "a, b" or, quoted, "\"a\", \"b\"". */
void spec_list(const char *const *values, bool quoted, char *out, size_t outlen);

#endif
