/* API tokens in PostgreSQL (table api_tokens): only keyed hashes are stored. */
#ifndef ATTENDD_STORE_TOKENS_H
#define ATTENDD_STORE_TOKENS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/token.h"
#include "attendd/uuid.h"

#define TOKEN_DEPARTMENTS_MAX 16 /* departments one token may be limited to */
#define TOKEN_DEPARTMENT_BUF 801 /* 200 characters of UTF-8 */

struct token_info {
    char id[ATT_UUID_STR];
    char name[128];
    enum att_role role;
    char created_at[40];   /* RFC 3339 UTC */
    char last_used_at[40]; /* "" if never */
    bool revoked;
    bool pseudonymous;    /* sees pseudonyms instead of identities; only pseudonym-safe routes */
    size_t n_departments; /* 0: every department; else the token sees only people of these */
    char departments[TOKEN_DEPARTMENTS_MAX][TOKEN_DEPARTMENT_BUF];
};

/* Whether t may see a person of department dept ("" for none): a token without departments sees
 * everyone, one with departments only people of those. */
bool token_sees_department(const struct token_info *t, const char *dept);
/* A departments column (a JSON array text, "" for none) into out[0..*n): false when it does not fit. */
bool departments_parse(const char *text, char (*out)[TOKEN_DEPARTMENT_BUF], size_t *n);
/* t's departments as a JSON array text (malloc'd; free it), or NULL for none or no memory (*nomem). */
char *token_departments_json(const struct token_info *t, bool *nomem);

/* Generate a token, store its hash with name/role; token_out receives the secret (show it once).
 * created_by: id of the token that made it, or NULL (CLI). ATT_E_INVALID for a bad name/role. */
att_err store_token_create(PGconn *c, const struct token_key *key, const char *name, enum att_role role,
                           const char *created_by, char token_out[TOKEN_STR_MAX], char id_out[ATT_UUID_STR]);
/* As store_token_create; pseudonymous: the token sees people only as people.pseudonym. */
att_err store_token_create_ex(PGconn *c, const struct token_key *key, const char *name, enum att_role role,
                              bool pseudonymous, const char *created_by, char token_out[TOKEN_STR_MAX],
                              char id_out[ATT_UUID_STR]);
/* As store_token_create_ex, limited to departments (n of them, 1..TOKEN_DEPARTMENTS_MAX, each 1..200
 * characters of text; n = 0: every department). ATT_E_INVALID for a bad department. */
att_err store_token_create_scoped(PGconn *c, const struct token_key *key, const char *name, enum att_role role,
                                  bool pseudonymous, const char *const *departments, size_t n, const char *created_by,
                                  char token_out[TOKEN_STR_MAX], char id_out[ATT_UUID_STR]);
/* Find a live (not revoked) token by hash. ATT_E_NOT_FOUND if none. */
att_err store_token_lookup(PGconn *c, const unsigned char hash[TOKEN_HASH_BYTES], struct token_info *out);
/* All tokens, newest first; *out malloc'd (free()), *n entries. */
att_err store_token_list(PGconn *c, struct token_info **out, size_t *n);
/* Revoke by id; ATT_E_NOT_FOUND if no such live token; ATT_E_INVALID if id is not a uuid. */
att_err store_token_revoke(PGconn *c, const char *id);
/* Record use (updates last_used_at at most once a minute per token). */
att_err store_token_touch(PGconn *c, const char *id);

#endif
