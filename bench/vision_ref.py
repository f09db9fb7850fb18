#!/usr/bin/python3
"""vision_ref.py: the straightforward Python + OpenCV pipeline over the same four models and the
same work as bench_vision.c (detection with the same tile plan, landmarks + alignment, embedding
single and batched, liveness), timed with 1 and 2 OpenCV threads. Reference for bench/vision.sh.
Run with Debian's /usr/bin/python3 (python3-opencv). Usage: vision_ref.py MODELS_DIR DATA_DIR [--quick]
"""
import math
import sys
import time

import cv2
import numpy as np

REF5 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                 [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def frame(path, index):
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    for _ in range(index + 1):
        ok, img = cap.read()
        if not ok:
            sys.exit("vision_ref: cannot read frame %d of %s" % (index, path))
    return img


def plan(w, h, min_face=40, det_face=20.0):
    """The same passes as src/vision/detect.cpp: whole frame, then tile levels."""
    passes = [(0, 0, w, h, (False,) * 4)]
    if min_face <= 0:
        return passes
    s0 = max(w / 320.0, h / 240.0)
    smin = min_face / det_face
    if s0 <= smin * 1.15:
        return passes
    levels = math.ceil(math.log(s0 / smin) / math.log(3.0) - 1e-9)
    sprev = s0
    for k in range(1, levels + 1):
        s = s0 * (smin / s0) ** (k / levels)
        tw, th = min(w, round(320 * s)), min(h, round(240 * s))
        ov = math.ceil(1.25 * det_face * sprev)

        def axis(length, t, o):
            if t >= length:
                return [0]
            n = math.ceil((length - o) / (t - o))
            return [0] if n == 1 else [round(i * (length - t) / (n - 1)) for i in range(n)]
        for y in axis(h, th, min(ov, th // 2)):
            for x in axis(w, tw, min(ov, tw // 2)):
                passes.append((x, y, tw, th, (x > 0, y > 0, x + tw < w, y + th < h)))
        sprev = s
    return passes


class Ref:
    def __init__(self, models):
        self.det = cv2.dnn.readNetFromONNX(models + "/fr_detect.onnx")
        self.lmk = cv2.dnn.readNetFromONNX(models + "/fr_landmark.onnx")
        self.feat = cv2.dnn.readNetFromONNX(models + "/fr_feature.onnx")
        self.live = cv2.dnn.readNetFromONNX(models + "/fr_liveness.onnx")

    def detect(self, img, min_face=40, thr=0.7):
        h, w = img.shape[:2]
        boxes, scores = [], []
        for x, y, pw, ph, cut in plan(w, h, min_face):
            k = min(320.0 / pw, 240.0 / ph)
            dw, dh = min(320, round(pw * k)), min(240, round(ph * k))
            canvas = np.full((240, 320, 3), 127, np.uint8)
            canvas[:dh, :dw] = cv2.resize(img[y:y + ph, x:x + pw], (dw, dh))
            self.det.setInput(cv2.dnn.blobFromImage(canvas, 1 / 128.0, (320, 240), (127, 127, 127), swapRB=True))
            sc, bx = self.det.forward(["scores", "boxes"])
            for s, b in zip(sc[0, :, 1], bx[0]):
                if s <= thr:
                    continue
                if (cut[0] and b[0] < 3 / 320) or (cut[1] and b[1] < 3 / 240) or \
                   (cut[2] and b[2] > dw / 320 - 3 / 320) or (cut[3] and b[3] > dh / 240 - 3 / 240):
                    continue
                x1, y1, x2, y2 = x + b[0] * 320 / k, y + b[1] * 240 / k, x + b[2] * 320 / k, y + b[3] * 240 / k
                if y2 - y1 >= 0.8 * min_face:
                    boxes.append([x1, y1, x2 - x1, y2 - y1])
                    scores.append(float(s))
        keep = cv2.dnn.NMSBoxes(boxes, scores, 0.0, 0.4) if boxes else []
        return [boxes[i] for i in np.array(keep).ravel()]

    def landmarks_align(self, img, box):
        h, w = img.shape[:2]
        x, y, bw, bh = box
        cx, cy, side = x + bw / 2, y + bh / 2, bh
        x1, y1 = max(0, int(math.floor(cx - side / 2))), max(0, int(math.floor(cy - side / 2)))
        x2, y2 = min(w, int(math.ceil(cx + side / 2))), min(h, int(math.ceil(cy + side / 2)))
        crop = cv2.cvtColor(cv2.resize(img[y1:y2, x1:x2], (64, 64)), cv2.COLOR_BGR2GRAY)
        self.lmk.setInput(crop[None, None].astype(np.float32) / 256.0)
        p = self.lmk.forward().reshape(68, 2) * [x2 - x1, y2 - y1] + [x1, y1]
        five = np.array([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]], np.float32)
        m, _ = cv2.estimateAffinePartial2D(five, REF5)
        return cv2.warpAffine(img, m, (112, 112))

    def embed(self, crops):
        self.feat.setInput(cv2.dnn.blobFromImages(crops, 1 / 128.0, (112, 112), (127, 127, 127), swapRB=True))
        e = self.feat.forward().reshape(len(crops), 512)  # batch quirk: [1, N*512]
        return e / np.linalg.norm(e, axis=1, keepdims=True)

    def liveness(self, img, box):
        h, w = img.shape[:2]
        x, y, bw, bh = box
        s = min(2.7, (h - 1) / bh, (w - 1) / bw)
        nw, nh = bw * s, bh * s
        cx, cy = x + bw / 2, y + bh / 2
        x1, y1, x2, y2 = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
        if x1 < 0: x2 -= x1; x1 = 0
        if y1 < 0: y2 -= y1; y1 = 0
        if x2 > w - 1: x1 -= x2 - w + 1; x2 = w - 1
        if y2 > h - 1: y1 -= y2 - h + 1; y2 = h - 1
        crop = cv2.resize(img[int(y1):int(y2) + 1, int(x1):int(x2) + 1], (128, 128))
        self.live.setInput(cv2.dnn.blobFromImage(crop, 1.0, (128, 128), (0, 0, 0), swapRB=False))
        l = self.live.forward()[0]
        e = np.exp(l - l.max())
        return float(e[0] / e.sum())


def measure(fn, per, reps, clock):
    """Best of 7 measurements, ms per item. With one OpenCV thread the calling thread's CPU time
    (time.thread_time) is used, as in bench_vision.c; with two, wall time."""
    fn()
    v = []
    for _ in range(7):
        t = clock()
        for _ in range(reps):
            fn()
        v.append((clock() - t) * 1000 / reps / per)
    return min(v)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    models, data = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    r = Ref(models)
    f1080 = frame(data + "/video/corridor-1080p25.mp4", 50)
    f720 = frame(data + "/video/shift-change.mp4", 100)
    cv2.setNumThreads(1)
    faces = r.detect(f1080)
    crops = [r.landmarks_align(f1080, b) for b in faces]
    crops16 = [crops[i % len(crops)] for i in range(16)]
    n = len(faces)
    q = 1 if quick else 0
    stages = [
        ("detect_1080p_tiled", lambda: r.detect(f1080), 1, 1 if q else 3),
        ("detect_1080p_whole", lambda: r.detect(f1080, 0), 1, 3 if q else 10),
        ("detect_720p_tiled", lambda: r.detect(f720), 1, 1 if q else 3),
        ("detect_720p_whole", lambda: r.detect(f720, 0), 1, 3 if q else 10),
        ("landmarks_align", lambda: [r.landmarks_align(f1080, b) for b in faces], n, 2 if q else 5),
        ("embed_single", lambda: [r.embed([c]) for c in crops16[:4]], 4, 1 if q else 3),
        ("embed_batch16", lambda: r.embed(crops16), 16, 1),
        ("liveness", lambda: [r.liveness(f1080, b) for b in faces], n, 1 if q else 3),
    ]
    print("# Python reference (OpenCV %s), %d faces in the 1080p frame; best of 7" % (cv2.__version__, n))
    print("stage\tpy_1t\tpy_2t")
    for name, fn, per, reps in stages:
        cv2.setNumThreads(1)
        t1 = measure(fn, per, reps, time.thread_time)
        cv2.setNumThreads(2)
        t2 = measure(fn, per, reps, time.perf_counter)
        print("%s\t%.2f\t%.2f" % (name, t1, t2))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
