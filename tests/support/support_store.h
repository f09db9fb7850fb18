/* Test helpers on the store: a checked connection, a migrated database on the run's cluster, one
 * statement's success, and one random enrolled face. */
#ifndef ATTENDD_TESTS_SUPPORT_STORE_H
#define ATTENDD_TESTS_SUPPORT_STORE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "attendd/template_crypto.h"

/* db_connect as app_name; with prepared, db_prepare_all too. The test fails on an error. */
PGconn *ts_db_connect(const char *conninfo, const char *app_name, bool prepared);
/* A fresh database on the run's cluster (ts_db_new; conninfo written), connected as "attendd-test",
 * migrated, the statements prepared. */
PGconn *ts_db_migrated(char *conninfo, size_t len);
/* Whether sql ran (a command, or a query with any number of rows). */
bool ts_q_ok(PGconn *c, const char *sql);
/* Record the person's consent as given (to consent text 1, added when there is none) through the
 * store, as the consent use case does: without it no template of the person can be stored. */
void ts_consent_given(PGconn *c, const char *person);
/* Store a random unit template for person under key k (model "test-model"); its id into face. The
 * person's consent is recorded first (ts_consent_given) when it is not given yet. */
void ts_add_face(PGconn *c, const char *person, const tcrypt_key *k, char face[37]);

#endif
