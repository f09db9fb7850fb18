/* Fill the in-memory gallery from the database at start-up: decrypt each stored template (and the
 * face's confirming template, when it has one) with the template key (into locked gallery memory
 * only) and add it. */
#ifndef ATTENDD_GALLERY_LOADER_H
#define ATTENDD_GALLERY_LOADER_H

#include <libpq-fe.h>
#include <stddef.h>

#include "attendd/errors.h"
#include "attendd/gallery.h"
#include "attendd/template_crypto.h"

/* Load every face of every non-erased person into g (which should be empty). *loaded = faces added.
 * Each blob is opened with the key whose id it carries: key (current) or old_key (the previous key
 * kept by `attendctl key rotate` as <template_key_file>.old; may be NULL), so templates enrolled
 * while a rotation was under way still load. A template that fails to decrypt (unknown key,
 * tampered or moved row, either of its two blobs) is skipped: an error line in the log names its face id, and *unreadable
 * counts it, for the caller to report (a silently smaller gallery would mean missed clock-ins; a
 * load stopped by one row would mean nobody recognised). Other failures stop the load, err says why. */
att_err gallery_load(gal *g, PGconn *c, const tcrypt_key *key, const tcrypt_key *old_key, size_t *loaded,
                     size_t *unreadable, char *err, size_t errlen);

/* Changes made through another instance (src/cluster): bring one person in g up to the database,
 * i.e. drop what g holds of them and load their faces again (none: erased, or no face left); the
 * active flag comes along. *loaded = faces now held for them. Templates that do not decrypt are
 * skipped as in gallery_load. */
att_err gallery_reload_person(gal *g, PGconn *c, const tcrypt_key *key, const tcrypt_key *old_key,
                              const char *person_id, size_t *loaded, char *err, size_t errlen);
/* The same for everyone (after the change feed was interrupted): every person with faces is loaded
 * again and every person g holds without faces in the database any more is dropped. */
att_err gallery_resync(gal *g, PGconn *c, const tcrypt_key *key, const tcrypt_key *old_key, size_t *loaded,
                       size_t *dropped, char *err, size_t errlen);

#endif
