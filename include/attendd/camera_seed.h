/* Cameras seeded from the configuration file (`camera.NAME = URL …` lines): written into the cameras
 * table by name at start and on SIGHUP, so they run, are listed and own their events like API ones. */
#ifndef ATTENDD_CAMERA_SEED_H
#define ATTENDD_CAMERA_SEED_H

#include <libpq-fe.h>
#include <stddef.h>

#include "attendd/config.h"
#include "attendd/errors.h"

/* Bring the cameras table in line with cfg->cameras: a configured name missing from the table is
 * created, one whose URL, role, fps or enabled differ is updated (other cameras are not touched), and
 * a name seeded by an earlier configuration (remembered in <state_dir>/seeded-cameras) that is no
 * longer configured is deleted. A camera that fails (invalid URL, name taken) is logged and counted
 * in *failed, and the others still apply. ATT_E_DB / ATT_E_IO (err says why) stop the whole seed. */
att_err camera_seed(PGconn *c, const struct att_config *cfg, size_t *failed, char *err, size_t errlen);

#endif
