/* attendctl privacy commands: `retention show|run [--as-of TIME]` (the retention use case the daemon
 * runs daily; --as-of moves its clock, for a test or to preview) and `dpia` (the facts of a
 * data-protection impact assessment, from the running configuration and the database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attendd/retention.h"
#include "attendd/store_audit.h"
#include "attendd/store_cameras.h"
#include "attendd/store_consent.h"
#include "attendd/store_tokens.h"
#include "attendd/time.h"
#include "cli.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const struct audit_actor actor = {NULL, "attendctl"};

static int retention_usage(void)
{
    fprintf(stderr,
            "usage: attendctl retention show\n"
            "       attendctl retention run [--as-of RFC3339-TIME]\n");
    return EXIT_USAGE;
}

static void print_time(const char *label, int64_t us)
{
    char t[64];
    if (us > 0 && att_time_format(us, 0, ATT_TIME_UTC_MS, t, sizeof t)) printf("%s%s\n", label, t);
    else printf("%snever\n", label);
}

int cmd_retention(int argc, char **argv)
{
    if (argc < 2) return retention_usage();
    bool run = strcmp(argv[1], "run") == 0;
    if (!run && strcmp(argv[1], "show") != 0) return retention_usage();
    int64_t now = att_time_wall_us();
    if (argc == 4 && run && strcmp(argv[2], "--as-of") == 0) {
        if (!att_time_parse(argv[3], &now) || now < 0) {
            fprintf(stderr, "attendctl: retention run: --as-of '%s' is not an RFC 3339 time\n", argv[3]);
            return EXIT_USAGE;
        }
    } else if (argc != 2) {
        return retention_usage();
    }
    struct retention_policy p = retention_policy_of(cli_config());
    PGconn *c;
    if (cli_db_open(true, &c) != 0) return EXIT_FAIL;
    if (!run) {
        int64_t last = 0;
        att_err e = retention_last_run(c, &last);
        PQfinish(c);
        if (e != ATT_OK) {
            fprintf(stderr, "attendctl: retention show: %s\n", att_err_title(e));
            return EXIT_FAIL;
        }
        printf("templates of people inactive for %d days: destroyed\n", p.templates_days);
        if (p.events_years > 0)
            printf("events older than %d years: %s\n", p.events_years, p.events_delete ? "deleted" : "de-identified");
        else printf("events: kept\n");
        printf("audit rows older than %d years: pruned\n", p.audit_years);
        print_time("last run: ", last);
        print_time("next run: ", retention_next_run(now, p.hour_utc));
        return EXIT_OK;
    }
    struct retention_counts n;
    att_err e = retention_run(c, NULL, &actor, &p, now, &n);
    if (e != ATT_OK) {
        struct audit_entry a = {NULL, actor.name, "retention.run", NULL, NULL, att_err_code(e), NULL};
        (void)store_audit_insert(c, &a);
    }
    PQfinish(c);
    if (e != ATT_OK) {
        fprintf(stderr, "attendctl: retention run failed: %s; nothing was deleted\n", att_err_title(e));
        return EXIT_FAIL;
    }
    printf("templates_deleted %zu\npeople_affected %zu\nevents_%s %zu\naudit_pruned %zu\n", n.templates_deleted,
           n.people_affected, p.events_delete ? "deleted" : "deidentified", n.events, n.audit_pruned);
    if (n.templates_deleted)
        fprintf(stderr,
                "a running attendd keeps the destroyed templates of these inactive people in memory until "
                "it restarts (they match nobody while inactive): restart it to wipe them\n");
    return EXIT_OK;
}

/* ---- dpia ------------------------------------------------------------------------------------------ */

static const char *camera_purpose(enum camera_role r)
{
    return r == CAMERA_ROLE_IN ? "clock-in point" : r == CAMERA_ROLE_OUT ? "clock-out point" : "entrance (in and out)";
}

int cmd_dpia(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: attendctl dpia\n");
        return EXIT_USAGE;
    }
    const struct att_config *cfg = cli_config();
    struct retention_policy p = retention_policy_of(cfg);
    PGconn *c;
    if (cli_db_open(true, &c) != 0) return EXIT_FAIL;
    struct camera_row *cams = NULL;
    size_t ncams = 0;
    struct token_info *toks = NULL;
    size_t ntoks = 0;
    struct consent_text *texts = NULL;
    size_t ntexts = 0;
    att_err e = store_camera_list(c, &cams, &ncams);
    if (e == ATT_OK) e = store_token_list(c, &toks, &ntoks);
    if (e == ATT_OK) e = store_consent_text_list(c, &texts, &ntexts);
    PQfinish(c);
    if (e != ATT_OK) {
        fprintf(stderr, "attendctl: dpia: the database could not be read: %s\n", att_err_title(e));
        free(cams);
        free(toks);
        free(texts);
        return EXIT_FAIL;
    }
    printf("# Data-protection impact assessment: facts from this installation\n\n");
    printf("Fill in docs/dpia.md with these; they are read from the configuration and the database now.\n\n");
    printf("## Purpose and cameras\n\n");
    printf("Purpose: recording the attendance (clock-in and clock-out) of enrolled staff who consented.\n\n");
    printf("| camera | purpose | enabled | frames analysed per second |\n|---|---|---|---|\n");
    for (size_t i = 0; i < ncams; i++)
        printf("| %s | %s | %s | %g |\n", cams[i].def.name, camera_purpose(cams[i].def.role),
               cams[i].def.enabled ? "yes" : "no", cams[i].def.analysis_fps);
    if (ncams == 0) printf("| (none defined) | | | |\n");
    printf("\n## Retention periods\n\n");
    printf("| data | period | what happens |\n|---|---|---|\n");
    printf("| face templates of an inactive person | %d days after deactivation | destroyed |\n", p.templates_days);
    printf("| face templates on consent withdrawal, opt-out or erasure | none | destroyed at once |\n");
    if (p.events_years > 0)
        printf("| attendance events | %d years | %s |\n", p.events_years,
               p.events_delete ? "deleted" : "de-identified (the person link, scores and free text removed)");
    else printf("| attendance events | kept | (retention_events_years = 0) |\n");
    printf("| audit log | %d years | pruned |\n", p.audit_years);
    printf("| faces that match no one (patients, visitors, bystanders) | none | never stored |\n");
    printf("| enrolment and identification photos | none | never stored |\n");
    printf("\nThe retention job runs daily at %02d:00 UTC.\n", p.hour_utc);
    printf("\n## Keys and storage\n\n");
    printf("| what | where |\n|---|---|\n");
    printf("| template encryption key | %s |\n", cfg->template_key_file);
    printf("| API token hashing key | %s |\n", cfg->token_key_file);
    printf("| HTTPS private key | %s |\n", cfg->tls_key_file[0] ? cfg->tls_key_file : "(plain HTTP on loopback)");
    printf("| event spool (state directory) | %s |\n", cfg->state_dir);
    printf("| database | PostgreSQL (database_url) |\n");
    printf("\n## Roles and access\n\n");
    size_t by_role[4] = {0}, pseudo = 0;
    for (size_t i = 0; i < ntoks; i++)
        if (!toks[i].revoked) {
            if ((unsigned)toks[i].role < 4) by_role[toks[i].role]++;
            if (toks[i].pseudonymous) pseudo++;
        }
    printf("| role | may | live tokens |\n|---|---|---|\n");
    printf("| admin | everything, including enrolment, consent, the audit log and subject exports | %zu |\n",
           by_role[ROLE_ADMIN]);
    printf("| hr | read events, reports and the roster; manual punches | %zu |\n", by_role[ROLE_HR]);
    printf("| kiosk | punch with employee number and PIN, or badge, only | %zu |\n", by_role[ROLE_KIOSK]);
    printf("\n%zu of these tokens are pseudonymous (see people only as pseudonyms).\n", pseudo);
    printf("\n## Consent\n\n%zu consent text version(s) stored; the latest: %s.\n", ntexts,
           ntexts ? texts[ntexts - 1].created_at : "none (no one can be enrolled)");
    printf("Enrolment is refused without consent given; withdrawal destroys the templates at once.\n");
    printf("\n## Recognition\n\nmatch_threshold %.2f; enrolment needs a face of at least %d px, sharpness %.0f, "
           "head turned at most %.0f and tilted at most %.0f degrees, liveness %.2f.\n",
           cfg->match_threshold, cfg->enrol_min_face_px, cfg->enrol_min_sharpness, cfg->enrol_max_yaw_deg,
           cfg->enrol_max_pitch_deg, cfg->enrol_min_liveness);
    free(cams);
    free(toks);
    free(texts);
    return EXIT_OK;
}
