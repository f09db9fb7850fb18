/* Cameras at run time: one capture thread per camera feeding one shared frame queue; definitions
 * from the database/API are applied at once (add, change, disable, remove) without a restart.
 * The analysis stage asks it only which camera (id, role) a frame's tag stands for. */
#ifndef ATTENDD_CAMERA_MGR_H
#define ATTENDD_CAMERA_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attendd/camera.h"
#include "attendd/capture.h"
#include "attendd/errors.h"
#include "attendd/event.h"
#include "attendd/uuid.h"

typedef struct camera_mgr camera_mgr;

/* q: the shared frame queue the analysis stage pops from (outlives the manager). */
att_err camera_mgr_new(cap_frame_queue *q, camera_mgr **out);
/* Stop every capture thread and free. Accepts NULL. */
void camera_mgr_free(camera_mgr *m);

/* Add a camera or change one (matched by id): URL changes reopen the stream; fps, ROI, role and
 * enabled apply in place. err says why on failure (message redacted: no credentials). */
att_err camera_mgr_apply(camera_mgr *m, const struct camera_def *def, char *err, size_t errlen);
/* Stop and forget a camera. ATT_E_NOT_FOUND if unknown. */
att_err camera_mgr_remove(camera_mgr *m, const char *id);
/* Live status of one camera. ATT_E_NOT_FOUND if unknown. */
att_err camera_mgr_status(camera_mgr *m, const char *id, struct cap_status *out);

/* For snapshots: the camera's latest sampled frame (a new reference: cap_frame_free() it; read-only,
 * its has_roi/roi are the camera's region of interest clipped to it). ATT_E_NOT_FOUND if the camera
 * does not run here (unknown, or held by another instance); ATT_E_UNAVAILABLE while it has no frame
 * (connecting, reconnecting, disabled). */
att_err camera_mgr_latest_frame(camera_mgr *m, const char *id, cap_frame **out);

/* For the analysis stage: the camera a frame came from, by the frame's tag. ATT_E_NOT_FOUND if the
 * camera was removed since (the frame is then discarded). */
att_err camera_mgr_lookup(camera_mgr *m, uint64_t tag, att_uuid *id_out, enum camera_role *role);

/* Number of cameras and their ids (for /metrics and status listings); fills up to max ids. */
size_t camera_mgr_list(camera_mgr *m, char (*ids)[ATT_UUID_STR], size_t max);

/* ---- additions (src/capture/camera_mgr.c) ---------------------------------------------------- */

/* For the analysis stage: n faces were detected in a frame of this tag; GET /api/v1/cameras shows
 * the running total as faces_seen. Cheap (read lock + atomic add). ATT_E_NOT_FOUND if removed. */
att_err camera_mgr_add_faces_seen(camera_mgr *m, uint64_t tag, uint64_t n);
/* A camera's faces_seen (0 until the pipeline reports faces). ATT_E_NOT_FOUND if unknown. */
att_err camera_mgr_faces_seen(camera_mgr *m, const char *id, uint64_t *out);

/* For the analysis stage: what a camera needs and how far the analysis falls short of it (about
 * once a second). ATT_E_NOT_FOUND if removed. */
att_err camera_mgr_set_analysis(camera_mgr *m, uint64_t tag, const struct camera_analysis *a);
/* A camera's last analysis report (zeros and need "" until the first). ATT_E_NOT_FOUND if unknown. */
att_err camera_mgr_analysis(camera_mgr *m, const char *id, struct camera_analysis *out);

/* Start-up load: apply every definition, remove running cameras that are not in defs. Keeps going
 * past a camera that fails (logged, shown as state error with the reason); *failed (may be NULL)
 * counts them. Returns the first failure's error, ATT_OK if none. */
att_err camera_mgr_sync(camera_mgr *m, const struct camera_def *defs, size_t n, size_t *failed);

/* Definitions may be changed through the API only once the start-up load has run (otherwise a
 * load that read the table before an API delete could bring the camera back). */
void camera_mgr_set_loaded(camera_mgr *m);
bool camera_mgr_loaded(camera_mgr *m);

/* Serialise "write the database, then apply" sequences (API handlers, the start-up load), so the
 * running cameras follow the commit order of concurrent changes. Not held by apply/remove
 * themselves; never take it while holding another manager call in progress. */
void camera_mgr_write_lock(camera_mgr *m);
void camera_mgr_write_unlock(camera_mgr *m);

/* Several instances on one database: a camera runs here only while the gate admits its id (this
 * instance holds its lease); apply() of one it refuses stops it if running and otherwise ignores it.
 * No gate (the default): every camera runs. Set before the first apply. */
typedef bool (*camera_mgr_gate)(void *ud, const char *camera_id);
void camera_mgr_set_gate(camera_mgr *m, camera_mgr_gate gate, void *ud);

#endif
