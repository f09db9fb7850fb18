/* fuse.h: the confirming model's shipped chip, the calibration of the fused score of fr_feature and
 * the confirming model (av_fuse_scores) and its thresholds, measured on LFW by `make bench`
 * (bench/bench_calib.c; docs/vision.md "The confirming model"). The analysis stage confirms a
 * track's decision with it (docs/pipeline.md "Confirmation"). */
#ifndef ATTENDD_FUSE_H
#define ATTENDD_FUSE_H

/* How the daemon, attendctl and the benchmark make the confirming chip (an av_confirm_align of
 * attendd/vision.h): the constants below are measured with it, and stored confirming templates are
 * comparable only with templates made the same way. */
#define AV_CONFIRM_ALIGN_SHIPPED AV_CONFIRM_ALIGN_LM68

/* Each model's similarity is z-normalised by its impostor distribution on LFW pairs-dev.txt (the
 * 1,500 different-person pairs): z = (s - mean) / sd. The fused score is the mean of the two
 * z-scores: weights fitted per fold did not beat the mean on the held-out folds. */
#define AV_FUSE_FR_MEAN 0.0077f
#define AV_FUSE_FR_SD 0.0969f
#define AV_FUSE_CONFIRM_MEAN 0.8333f
#define AV_FUSE_CONFIRM_SD 0.0349f

/* One photo against one claimed person (1:1): pairs-dev.txt 99.27% right, 1 false accept of 1,500
 * (every LFW impostor pair: FMR 2.8e-3). */
#define AV_FUSED_VERIFY_THRESHOLD 2.5f
/* One photo against everyone enrolled (1:N): a stranger meets every enrolled person, so this sits
 * near FMR 1.5e-6: no stranger of 998 matched against 1,086 enrolled, right person found 86.9%;
 * about 0.3% of strangers matched at 2,000 enrolled by the FMR of every LFW pair. */
#define AV_FUSED_THRESHOLD 4.1f
/* One frame inside a track, which counts only as one vote of K agreeing frames of M: about 2% of
 * stranger frames match one of 2,000 enrolled (FMR ~1e-5), so three independent frames agreeing on
 * the same person are ~1e-4 per stranger track, while ~92% of an enrolled person's frames count. */
#define AV_FUSED_FRAME_THRESHOLD 3.8f
/* The confirming model alone (cosine similarity): the benchmark's reference point, not shipped alone. */
#define AV_CONFIRM_THRESHOLD 0.91f

#endif
