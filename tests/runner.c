/* The one test runner: every `Suite *NAME_suite(void)` in tests/unit/test_*.c and
 * tests/integration/test_*.c (found by the Makefile, listed in suites.h). CK_RUN_SUITE / CK_RUN_CASE
 * select a part; CK_FORK=no for gdb. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "support.h"

#define SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SUITE

int main(void)
{
    /* one PostgreSQL cluster for the whole run, started when a case first asks for a database */
    ts_cluster_run_begin();
    atexit(ts_cluster_run_end);
    SRunner *sr = srunner_create(NULL);
#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SUITE
    srunner_run_all(sr, CK_ENV);
    int run = srunner_ntests_run(sr), failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    /* the plain summary line CI reads in any language */
    printf("%d passed, %d failed\n", run - failed, failed);
    return (failed == 0 && run > 0) ? EXIT_SUCCESS : EXIT_FAILURE;
}
