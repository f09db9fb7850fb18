/* Operator documentation in step with the code: docs/configuration.md lists every key of the real
 * config table (src/util/config.c) with its default and range, and no key that does not exist. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/config.h"
#include "config.h"
#include "support.h"

static char *read_doc(const char *rel)
{
    char *p;
    ck_assert(asprintf(&p, "%s/%s", ts_env("ATTENDD_SRCDIR"), rel) > 0);
    FILE *f = fopen(p, "r");
    ck_assert_msg(f != NULL, "cannot open %s", p);
    static char buf[256 * 1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    ck_assert_msg(feof(f), "%s is larger than the test's buffer", p);
    buf[n] = '\0';
    fclose(f);
    free(p);
    return buf;
}

/* The table row "| `name` | default | range | meaning |" as its cells (static storage); false if absent. */
static bool key_row(const char *doc, const char *name, char cells[4][2048])
{
    char head[128];
    snprintf(head, sizeof head, "\n| `%s` |", name);
    const char *s = strstr(doc, head);
    if (!s) return false;
    s += 2; /* past "\n|" */
    for (int c = 0; c < 4; c++) {
        const char *e = strchr(s, '|');
        const char *nl = strchr(s, '\n');
        if (!e || (nl && nl < e)) return false;
        size_t n = (size_t)(e - s);
        if (n >= 2048) n = 2047;
        memcpy(cells[c], s, n);
        cells[c][n] = '\0';
        s = e + 1;
    }
    return true;
}

/* How the doc writes a default: in backticks, "(none)" for an empty one, and the build's data
 * directory as $(datadir)/attendd (it depends on the install prefix). */
static bool default_documented(const char *cell, const char *dflt)
{
    if (dflt[0] == '\0') return strstr(cell, "(none)") != NULL;
    char want[1100];
    size_t dl = strlen(ATTENDD_DATADIR);
    if (strncmp(dflt, ATTENDD_DATADIR, dl) == 0) snprintf(want, sizeof want, "`$(datadir)/attendd%s`", dflt + dl);
    else snprintf(want, sizeof want, "`%s`", dflt);
    return strstr(cell, want) != NULL;
}

START_TEST(configuration_md_lists_every_key)
{
    const char *doc = read_doc("docs/configuration.md");
    char cells[4][2048], missing[4096] = "";
    for (size_t i = 0; i < cfg_key_count(); i++) {
        const char *name = cfg_key_name(i), *dflt = cfg_key_default(i);
        if (!key_row(doc, name, cells)) {
            strncat(missing, " ", sizeof missing - strlen(missing) - 1);
            strncat(missing, name, sizeof missing - strlen(missing) - 1);
            continue;
        }
        ck_assert_msg(default_documented(cells[1], dflt), "docs/configuration.md: %s: default '%s' not in '%s'", name,
                      dflt, cells[1]);
        double min, max;
        bool integer;
        if (cfg_key_range(i, &min, &max, &integer)) {
            char range[128];
            if (integer) snprintf(range, sizeof range, "%.0f–%.0f", min, max);
            else snprintf(range, sizeof range, "%g–%g", min, max);
            ck_assert_msg(strstr(cells[2], range) != NULL, "docs/configuration.md: %s: range '%s' not in '%s'", name,
                          range, cells[2]);
        }
    }
    ck_assert_msg(missing[0] == '\0', "keys missing from docs/configuration.md:%s", missing);
}
END_TEST

START_TEST(configuration_md_lists_no_unknown_key)
{
    const char *doc = read_doc("docs/configuration.md");
    int rows = 0;
    for (const char *s = strstr(doc, "\n| `"); s; s = strstr(s + 1, "\n| `")) {
        const char *b = s + 4, *e = strchr(b, '`');
        ck_assert_ptr_nonnull(e);
        char name[128];
        ck_assert_uint_lt((size_t)(e - b), sizeof name);
        memcpy(name, b, (size_t)(e - b));
        name[e - b] = '\0';
        bool known = false;
        for (size_t i = 0; i < cfg_key_count() && !known; i++) known = strcmp(cfg_key_name(i), name) == 0;
        ck_assert_msg(known, "docs/configuration.md documents '%s', which is not a configuration key", name);
        rows++;
    }
    ck_assert_int_eq(rows, (int)cfg_key_count());
}
END_TEST

/* The checks above are only as good as the row parser: feed it a known table. */
START_TEST(row_parser_reads_cells)
{
    const char *doc = "x\n| `port` | `8080` | 0–65535 | TCP port |\n| `database_url` | (none) | URI | required |\n";
    char cells[4][2048];
    ck_assert(key_row(doc, "port", cells));
    ck_assert_str_eq(cells[1], " `8080` ");
    ck_assert_str_eq(cells[2], " 0–65535 ");
    ck_assert(default_documented(cells[1], "8080"));
    ck_assert(!default_documented(cells[1], "808"));
    ck_assert(key_row(doc, "database_url", cells));
    ck_assert(default_documented(cells[1], ""));
    ck_assert(!key_row(doc, "http_threads", cells));
}
END_TEST

/* docs/index.md links every document in docs/ (so a new one is not left unlisted). */
START_TEST(index_lists_every_document)
{
    const char *idx = read_doc("docs/index.md");
    char *dir;
    ck_assert(asprintf(&dir, "%s/docs", ts_env("ATTENDD_SRCDIR")) > 0);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        bool doc =
            (l > 3 && strcmp(de->d_name + l - 3, ".md") == 0) || (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0);
        if (!doc || strcmp(de->d_name, "index.md") == 0) continue;
        char link[300];
        snprintf(link, sizeof link, "](%s)", de->d_name);
        ck_assert_msg(strstr(idx, link) != NULL, "docs/index.md does not link %s", de->d_name);
        n++;
    }
    closedir(d);
    free(dir);
    ck_assert_int_gt(n, 5);
}
END_TEST

Suite *docs_suite(void)
{
    Suite *s = suite_create("docs");
    ts_tcase(s, "configuration", 0, NULL, NULL, row_parser_reads_cells, configuration_md_lists_every_key,
             configuration_md_lists_no_unknown_key, index_lists_every_document, NULL);
    return s;
}
