/* Test helpers for suites that talk to the daemon's JSON API: one JSON request, members of a JSON
 * answer, and the check of a problem+json answer. */
#ifndef ATTENDD_TESTS_SUPPORT_API_H
#define ATTENDD_TESTS_SUPPORT_API_H

#include <jansson.h>
#include <stddef.h>

/* body (len bytes) as JSON: NULL when empty; the test fails if it is not JSON. */
json_t *ts_json_body(const char *body, size_t len);
/* Member k of o as a string (the test fails if it is not one), as a string or NULL, as an integer
 * (the test fails if it is not one). */
const char *ts_jstr(json_t *o, const char *k);
const char *ts_jstr_opt(json_t *o, const char *k);
long long ts_jint(json_t *o, const char *k);
/* One request with a JSON body (json NULL: none); the status into *status, the answer as JSON (NULL
 * if it has no body). */
json_t *ts_call(const char *method, const char *url, const char *token, const char *json, long *status);
/* A problem answer j that came with status: want, and every RFC 9457 member (type, title, status,
 * detail), the stable code (NULL: any) and the field when given. Consumes j. */
void ts_expect_problem(json_t *j, long status, long want, const char *code, const char *field);

/* The latest consent text's version, a first one added (POST /api/v1/consent-texts) when there is
 * none; then the person's consent recorded as given to it (POST /api/v1/people/{id}/consent), as an
 * operator does before enrolling anyone. The test fails on an error. */
int ts_api_consent_text(const char *base_url, const char *admin_token);
void ts_api_consent_given(const char *base_url, const char *admin_token, const char *person_id);

/* The path of photo file of the test data's faces/ (one of four rotating buffers: four may be in use). */
const char *ts_face_photo(const char *file);
/* GET /readyz until it answers 200 (at most 60 s); the last status. */
long ts_api_wait_ready(const char *base_url);
/* The id of token (GET /api/v1/whoami) into id; the test fails on an error. */
void ts_api_whoami_id(const char *base_url, const char *token, char *id, size_t len);
/* POST /api/v1/people {employee_no, name, department}; the new id into id (40 bytes). The test fails
 * unless 201. */
void ts_api_create_person(const char *base_url, const char *admin_token, const char *employee_no, const char *name,
                          const char *dept, char id[40]);
/* POST the file at path as the body, with Content-Type ctype (NULL: none); the status into *status,
 * the answer as JSON. */
json_t *ts_post_file(const char *url, const char *token, const char *path, const char *ctype, long *status);
/* The largest face POST /api/v1/identify finds on photo path (a new reference), NULL for none; the
 * test fails unless 200. */
json_t *ts_api_identify_largest(const char *base_url, const char *token, const char *path);
/* The person id a face of an identify answer matched, or NULL. */
const char *ts_face_match_id(json_t *face);

#endif
