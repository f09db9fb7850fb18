/* Unit tests of the rendered-answer cache (src/http/rcache.c): what erasure must leave in it (no page
 * naming the person, asked of the cache itself), and the page read before a change that is stored
 * after it. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "attendd/data_version.h"
#include "src/http/rcache.h"
#include "support.h"

static const char person_name[] = "Erin Erasmus";
static const char person_id[] = "6f1c2e1a-8a51-4b0e-9d0c-3b7a2f5d9e41";

/* An events page naming the person, as GET /api/v1/events renders it. */
static void page(char *out, size_t len, int i)
{
    snprintf(out, len,
             "{\"items\":[{\"id\":\"11111111-2222-4333-8444-%012d\",\"person_id\":\"%s\",\"employee_no\":\"E-7\","
             "\"name\":\"%s\",\"kind\":\"in\"}],\"next_cursor\":null}",
             i, person_id, person_name);
}

/* Pages naming a person fill the cache; the erasure (the data version bump of its commit, then what
 * DELETE /api/v1/people/{id} does to the cache) leaves no page holding the name or the id. */
START_TEST(erasure_leaves_no_page_naming_the_person)
{
    char body[512], etag[64];
    uint64_t v = app_data_version();
    for (int i = 0; i < 5; i++) {
        page(body, sizeof body, i);
        snprintf(etag, sizeof etag, "\"erase-test-%d\"", i);
        ck_assert_int_eq(http_rcache_put(etag, v, body, strlen(body), 1, "tok"), ATT_OK);
    }
    ck_assert(http_rcache_holds(person_name, strlen(person_name)));
    ck_assert(http_rcache_holds(person_id, strlen(person_id)));

    app_data_version_bump();  /* the erasure commits */
    http_rcache_drop_stale(); /* and the erase handler clears what was rendered before it */
    ck_assert_msg(!http_rcache_holds(person_name, strlen(person_name)), "a cached page still names the person");
    ck_assert(!http_rcache_holds(person_id, strlen(person_id)));

    /* a page read before the erasure and stored after it is not kept */
    page(body, sizeof body, 9);
    ck_assert_int_eq(http_rcache_put("\"erase-test-late\"", v, body, strlen(body), 1, "tok"), ATT_OK);
    ck_assert(!http_rcache_holds(person_name, strlen(person_name)));
    /* one read after it is */
    static const char other[] = "{\"items\":[{\"name\":\"Someone Else\"}],\"next_cursor\":null}";
    ck_assert_int_eq(http_rcache_put("\"erase-test-new\"", app_data_version(), other, strlen(other), 1, "tok"), ATT_OK);
    ck_assert(http_rcache_holds("Someone Else", 12));
    ck_assert(!http_rcache_holds(person_name, strlen(person_name)));
}
END_TEST

Suite *rcache_suite(void)
{
    Suite *s = suite_create("rcache");
    ts_tcase(s, "erasure", 0, NULL, NULL, erasure_leaves_no_page_naming_the_person, NULL);
    return s;
}
