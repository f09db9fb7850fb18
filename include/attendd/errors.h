/* attendd error registry: one list of error codes shared by the daemon, the API and the CLI.
 * Each entry maps to an HTTP status, a stable machine code (the problem body's "code") and a title. */
#ifndef ATTENDD_ERRORS_H
#define ATTENDD_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, http_status, "code", "Title") — append new entries at the end of a group, never renumber. */
#define ATT_ERRORS(X)                                                                             \
    X(OK, 200, "ok", "OK")                                                                        \
    X(E_NOMEM, 500, "out_of_memory", "Out of memory")                                             \
    X(E_INTERNAL, 500, "internal_error", "Internal error")                                        \
    X(E_IO, 500, "io_error", "I/O error")                                                         \
    X(E_CONFIG, 500, "config_error", "Configuration error")                                       \
    X(E_DB, 503, "database_unavailable", "Database unavailable")                                  \
    X(E_DB_QUERY, 500, "database_error", "Database error")                                        \
    X(E_SCHEMA, 500, "schema_mismatch", "Database schema mismatch")                               \
    X(E_CRYPTO, 500, "crypto_error", "Cryptographic operation failed")                            \
    X(E_BAD_REQUEST, 400, "bad_request", "Bad request")                                           \
    X(E_BAD_JSON, 400, "malformed_json", "Malformed JSON body")                                   \
    X(E_BAD_PARAM, 400, "bad_parameter", "Bad query parameter")                                   \
    X(E_UNAUTHORIZED, 401, "unauthorized", "Authentication required")                             \
    X(E_FORBIDDEN, 403, "forbidden", "Not allowed for this token's role")                         \
    X(E_NOT_FOUND, 404, "not_found", "Not found")                                                 \
    X(E_METHOD, 405, "method_not_allowed", "Method not allowed")                                  \
    X(E_CONFLICT, 409, "conflict", "Conflict")                                                    \
    X(E_TOO_LARGE, 413, "payload_too_large", "Request body too large")                            \
    X(E_MEDIA_TYPE, 415, "unsupported_media_type", "Unsupported media type")                      \
    X(E_INVALID, 422, "invalid_field", "Invalid field")                                           \
    X(E_RATE_LIMIT, 429, "too_many_requests", "Too many requests")                                \
    X(E_NOT_READY, 503, "not_ready", "Service not ready")                                         \
    X(E_UNAVAILABLE, 503, "unavailable", "Service unavailable")                                   \
    /* photo checks (enrolment, identification): codes equal enrol_outcome_code() */              \
    X(E_BAD_IMAGE, 422, "bad_image", "Not a usable image")                                        \
    X(E_NO_FACE, 422, "no_face", "No face found")                                                 \
    X(E_MULTIPLE_FACES, 422, "multiple_faces", "More than one face")                              \
    X(E_FACE_TOO_SMALL, 422, "face_too_small", "Face too small")                                  \
    X(E_TOO_BLURRY, 422, "too_blurry", "Photo too blurry")                                        \
    X(E_NOT_FRONTAL, 422, "not_frontal", "Face not frontal")                                      \
    X(E_SPOOF, 422, "spoof_suspected", "Presentation attack suspected")                           \
    /* corrections, negotiation */                                                                \
    X(E_NOT_MANUAL, 409, "not_manual_punch", "Only manual punches can be voided")                 \
    X(E_NOT_ACCEPTABLE, 406, "not_acceptable", "Not acceptable")                                  \
    /* abuse resistance */                                                                        \
    X(E_AUTH_LOCKED, 429, "too_many_auth_failures", "Too many failed authentications")            \
    /* privacy: consent and the alternative to the face */                                        \
    X(E_CONSENT_REQUIRED, 409, "consent_required", "Consent to biometric processing required")    \
    X(E_BIOMETRIC_OFF, 409, "biometric_opt_out", "The person does not use face recognition")      \
    X(E_CREDENTIAL_LOCKED, 423, "credential_locked", "Credential locked after too many failures") \
    /* load shedding */                                                                           \
    X(E_BUSY, 503, "busy", "Too busy")                                                            \
    /* pay periods */                                                                             \
    X(E_PERIOD_CLOSED, 409, "period_closed", "Pay period closed")

typedef enum att_err {
#define ATT_ERR_ENUM(name, status, code, title) ATT_##name,
    ATT_ERRORS(ATT_ERR_ENUM)
#undef ATT_ERR_ENUM
        ATT_ERR__COUNT
} att_err;

/* Static strings/values for an error; unknown values map to E_INTERNAL. Never NULL. */
const char *att_err_code(att_err e);
const char *att_err_title(att_err e);
int att_err_http_status(att_err e);

/* The one way a failing function fills its caller's reason buffer: the printf-formatted text goes to
 * err (truncated to errlen; nothing when err is NULL or errlen 0) and code comes back, so a failure
 * reads `return att_fail(ATT_E_IO, err, errlen, "open %s: %s", path, strerror(errno));`. */
att_err att_fail(att_err code, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
att_err att_vfail(att_err code, char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#ifdef __cplusplus
}
#endif

#endif
