/* Content negotiation for the routes that answer JSON or CSV: format= first, then Accept. */
#ifndef ATTENDD_HTTP_NEGOTIATE_H
#define ATTENDD_HTTP_NEGOTIATE_H

#include <stdbool.h>

#include "http_internal.h"

/* JSON or CSV for this request: fmt, the query parameter `format` parsed by HTTP_FORMAT_FIELD (0 json,
 * 1 csv, -1 absent), wins; without it the Accept header decides (highest q; text/csv or any text type
 * picks CSV; application/json, any application type or any type picks JSON; no header: JSON).
 * Writes 406 not_acceptable (field "Accept") when the header allows neither. */
att_err http_negotiate_csv(const struct http_request *req, struct http_response *resp, int fmt, bool *csv);

#endif
