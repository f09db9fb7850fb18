/* fuse.h: the calibration of the fused score of fr_feature and the confirming model (av_fuse_scores)
 * and its thresholds, measured on LFW by `make bench` (bench/bench_calib.c; docs/vision.md "The
 * confirming model"). Nothing in the daemon uses the fused score yet. */
#ifndef ATTENDD_FUSE_H
#define ATTENDD_FUSE_H

/* Each model's similarity is z-normalised by its impostor distribution on LFW pairs-dev.txt (the
 * 1,500 different-person pairs): z = (s - mean) / sd. */
#define AV_FUSE_FR_MEAN 0.0077f
#define AV_FUSE_FR_SD 0.0969f
#define AV_FUSE_CONFIRM_MEAN 0.8333f
#define AV_FUSE_CONFIRM_SD 0.0349f
/* Fused score (mean of the two z-scores) thresholds for one photo (open-set LFW: no stranger of 998
 * matched, DIR 87.1%) and per track frame. */
#define AV_FUSED_THRESHOLD 4.1f
#define AV_FUSED_FRAME_THRESHOLD 3.5f
/* The confirming model alone (cosine similarity): the benchmark's reference point, not shipped alone. */
#define AV_CONFIRM_THRESHOLD 0.91f

#endif
