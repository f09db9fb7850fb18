/* One transaction around a caller's statements: BEGIN, run, COMMIT or ROLLBACK, and a bounded rerun
 * when the server aborts it for a serialization failure or a deadlock. */
#include <sodium.h>
#include <time.h>

#include "attendd/db.h"
#include "attendd/log.h"
#include "src/store/statements.h"

/* Pause before attempt n (1-based, n >= 2): 1..2^n ms at random, so two transactions that deadlocked
 * on each other do not collide again at once. */
static void backoff(int attempt)
{
    unsigned ms = 1u + randombytes_uniform(1u << attempt);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

att_err db_transaction(PGconn *c, db_tx_run run, db_tx_undo undo, void *arg)
{
    if (!c) return ATT_E_DB;
    if (PQtransactionStatus(c) != PQTRANS_IDLE) return ATT_E_INTERNAL; /* nested: a programming error */
    att_err e = ATT_E_INTERNAL;
    for (int attempt = 1; attempt <= DB_TX_ATTEMPTS; attempt++) {
        if (attempt > 1) backoff(attempt);
        db_failure_clear();
        if ((e = db_begin(c)) != ATT_OK) return e;
        e = run(c, arg);
        if (e == ATT_OK) {
            e = db_commit(c);
            if (e == ATT_OK) return ATT_OK;
            if (undo) undo(arg);
        }
        db_rollback(c);
        if (!db_failure_retryable()) return e;
        log_warn("db", "transaction aborted by a serialization failure or deadlock (attempt %d of %d)", attempt,
                 DB_TX_ATTEMPTS);
    }
    return e;
}
