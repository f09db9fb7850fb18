/* attendctl roster changes: `person erase ID`, `person activate ID`, `person deactivate ID`, through
 * the same use cases as the API (actor "attendctl"; the change and its audit row in one transaction). */
#include <stdio.h>
#include <string.h>

#include "attendd/roster.h"
#include "attendd/store_audit.h"
#include "attendd/uuid.h"
#include "cli.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

static const struct audit_actor actor = {NULL, "attendctl"};

static int person_usage(void)
{
    fprintf(stderr,
            "usage: attendctl person erase ID\n"
            "       attendctl person activate ID\n"
            "       attendctl person deactivate ID\n");
    return EXIT_USAGE;
}

int cmd_person(int argc, char **argv)
{
    if (argc != 3) return person_usage();
    const char *verb = argv[1], *id = argv[2];
    bool erase = strcmp(verb, "erase") == 0, activate = strcmp(verb, "activate") == 0;
    if (!erase && !activate && strcmp(verb, "deactivate") != 0) {
        fprintf(stderr, "attendctl: person: unknown action '%s'\n", verb);
        return person_usage();
    }
    att_uuid u;
    if (!att_uuid_parse(id, &u)) {
        fprintf(stderr, "attendctl: person %s: '%s' is not a person id (uuid)\n", verb, id);
        return EXIT_USAGE;
    }
    char pid[ATT_UUID_STR];
    att_uuid_format(&u, pid);
    PGconn *c;
    if (cli_db_open(true, &c) != 0) return EXIT_FAIL;
    /* no gallery in this process: the daemon's copy is refreshed when it next loads */
    struct roster_deps deps = {.db = c};
    size_t faces = 0;
    struct person p;
    struct person_patch patch = {.set_active = true, .active = activate};
    att_err rc =
        erase ? roster_person_erase(&deps, &actor, pid, &faces) : roster_person_update(&deps, &actor, pid, &patch, &p);
    const char *action = erase ? "person.erase" : "person.update";
    if (rc != ATT_OK) {
        /* a refused change is an admin action too */
        struct audit_entry a = {NULL, actor.name, action, "person", pid, att_err_code(rc), NULL};
        (void)store_audit_insert(c, &a);
    }
    PQfinish(c);
    if (rc == ATT_E_NOT_FOUND) {
        fprintf(stderr, "attendctl: person %s: no person with id %s\n", verb, pid);
        return EXIT_FAIL;
    }
    if (rc != ATT_OK) {
        fprintf(stderr, "attendctl: person %s failed: %s; nothing was changed\n", verb, att_err_title(rc));
        return EXIT_FAIL;
    }
    if (erase) fprintf(stderr, "erased %s (%zu template%s deleted)\n", pid, faces, faces == 1 ? "" : "s");
    else fprintf(stderr, "%s %s\n", activate ? "activated" : "deactivated", pid);
    fprintf(stderr, "a running attendd keeps its gallery until it restarts: restart it now so cameras %s\n",
            erase ? "stop recognising this person" : "follow the change");
    return EXIT_OK;
}
