// detect.cpp: face detection on any frame size with the fixed 320x240 detector: one letterboxed
// whole-frame pass for large faces, plus overlapping tiles at the scales small faces need, merged
// by greedy NMS across all passes.
#include "internal.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace
{

constexpr float kEdgeMarginPx = 3.f; // detector-input px: a box this close to a cut is partial

struct pass {
    cv::Rect r;                      // region of the image fed to the detector
    bool cut_l, cut_t, cut_r, cut_b; // tile edges inside the ROI (faces there may be cut)
};

struct cand {
    av_box b;
    float score;
};

// Tile positions along one axis: n windows of size t covering [0, len) with overlap >= ov.
std::vector<int> axis_tiles(int len, int t, int ov)
{
    std::vector<int> pos;
    if (t >= len) {
        pos.push_back(0);
        return pos;
    }
    const int n = (int)std::ceil((double)(len - ov) / (double)(t - ov));
    for (int i = 0; i < n; i++) pos.push_back(n == 1 ? 0 : (int)std::lround((double)i * (len - t) / (n - 1)));
    return pos;
}

// Whole region first, then tile levels from coarse to fine. Each tile level at scale s (image px
// per detector px) finds faces from det_face_px*s up; the level above finds faces from
// det_face_px*s_prev, so tiles overlap by 1.25*det_face_px*s_prev and any face the coarser pass
// may miss lies wholly inside some tile. Levels are at most 3x apart.
std::vector<pass> plan(const cv::Rect &roi, const av_detect_opts &o)
{
    std::vector<pass> passes;
    passes.push_back({roi, false, false, false, false});
    if (o.min_face_px <= 0) return passes;
    const double w = roi.width, h = roi.height;
    const double s0 = std::max(w / avi::kDetW, h / avi::kDetH);
    const double smin = o.min_face_px / (double)o.det_face_px;
    if (s0 <= smin * 1.15) return passes;
    const int levels = (int)std::ceil(std::log(s0 / smin) / std::log(3.0) - 1e-9);
    double sprev = s0;
    for (int k = 1; k <= levels; k++) {
        const double s = s0 * std::pow(smin / s0, (double)k / levels);
        const int tw = std::min(roi.width, (int)std::lround(avi::kDetW * s));
        const int th = std::min(roi.height, (int)std::lround(avi::kDetH * s));
        const int ov = (int)std::ceil(1.25 * o.det_face_px * sprev);
        const std::vector<int> xs = axis_tiles(roi.width, tw, std::min(ov, tw / 2));
        const std::vector<int> ys = axis_tiles(roi.height, th, std::min(ov, th / 2));
        for (int y : ys)
            for (int x : xs)
                passes.push_back(
                    {cv::Rect(roi.x + x, roi.y + y, tw, th), x > 0, y > 0, x + tw < roi.width, y + th < roi.height});
        sprev = s;
    }
    return passes;
}

float iou(const av_box &a, const av_box &b)
{
    const float ix = std::max(0.f, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
    const float iy = std::max(0.f, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
    const float inter = ix * iy;
    const float u = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
    return u > 0.f ? inter / u : 0.f;
}

// One detector run on region ps.r, letterboxed (aspect kept, padding = mean grey = 0 input).
void run_pass(av_pipeline *p, const cv::Mat &img, const pass &ps, float score_min, std::vector<cand> &out)
{
    const double k = std::min((double)avi::kDetW / ps.r.width, (double)avi::kDetH / ps.r.height);
    const int dw = std::max(1, std::min(avi::kDetW, (int)std::lround(ps.r.width * k)));
    const int dh = std::max(1, std::min(avi::kDetH, (int)std::lround(ps.r.height * k)));
    if (dw < avi::kDetW || dh < avi::kDetH) p->canvas.setTo(cv::Scalar::all(127));
    cv::Mat dst = p->canvas(cv::Rect(0, 0, dw, dh));
    cv::resize(img(ps.r), dst, dst.size(), 0, 0, cv::INTER_LINEAR);

    const int shape[4] = {1, 3, avi::kDetH, avi::kDetW};
    p->blob.create(4, shape, CV_32F);
    avi::bgr_to_planar(p->canvas, p->blob.ptr<float>(), 127.f, 1.f / 128.f, true);
    cv::dnn::Net &net = p->net[AVM_DETECT];
    net.setInput(p->blob);
    static const std::vector<cv::String> names = {"scores", "boxes"};
    net.forward(p->outs, names);
    const cv::Mat &sc = p->outs[0], &bx = p->outs[1];
    CV_Assert(sc.total() % 2 == 0 && bx.total() == sc.total() * 2);
    const size_t n = sc.total() / 2;
    const float *s = sc.ptr<float>(), *b = bx.ptr<float>();
    const float sx = (float)(avi::kDetW / k), sy = (float)(avi::kDetH / k);
    const float mx = kEdgeMarginPx / avi::kDetW, my = kEdgeMarginPx / avi::kDetH;
    const float fx = (float)dw / avi::kDetW, fy = (float)dh / avi::kDetH; // image extent
    for (size_t i = 0; i < n; i++) {
        const float score = s[2 * i + 1];
        if (!(score > score_min)) continue;
        const float *q = b + 4 * i;
        if ((ps.cut_l && q[0] < mx) || (ps.cut_t && q[1] < my) || (ps.cut_r && q[2] > fx - mx) ||
            (ps.cut_b && q[3] > fy - my))
            continue; // touches a tile cut: the face continues in a neighbouring tile
        cand c;
        c.score = score;
        c.b.x1 = ps.r.x + std::clamp(q[0], 0.f, fx) * sx;
        c.b.y1 = ps.r.y + std::clamp(q[1], 0.f, fy) * sy;
        c.b.x2 = ps.r.x + std::clamp(q[2], 0.f, fx) * sx;
        c.b.y2 = ps.r.y + std::clamp(q[3], 0.f, fy) * sy;
        if (c.b.x2 - c.b.x1 >= 1.f && c.b.y2 - c.b.y1 >= 1.f) out.push_back(c);
    }
}

av_status resolve_opts(const av_detect_opts *in, av_detect_opts *o, av_err *err)
{
    if (in) *o = *in;
    else av_detect_opts_init(o);
    if (!(o->score_min >= 0.f && o->score_min < 1.f) || !(o->nms_iou > 0.f && o->nms_iou <= 1.f) ||
        o->min_face_px < 0 || o->min_face_px > 100000 || !(o->det_face_px >= 4.f && o->det_face_px <= 240.f) ||
        o->max_passes < 1)
        return avi::fail(err, AV_E_ARG, "invalid detection options");
    return AV_OK;
}

} // namespace

extern "C" void av_detect_opts_init(av_detect_opts *o)
{
    if (!o) return;
    o->score_min = 0.7f;
    o->nms_iou = 0.4f;
    o->min_face_px = 40;
    o->det_face_px = 20.f;
    o->max_passes = 64;
    o->landmarks = 1;
}

extern "C" int av_detect_plan(int w, int h, const av_detect_opts *opts)
{
    try {
        av_detect_opts o;
        if (w <= 0 || h <= 0 || resolve_opts(opts, &o, nullptr) != AV_OK) return -1;
        return (int)plan(cv::Rect(0, 0, w, h), o).size();
    } catch (...) {
        return -1;
    }
}

extern "C" av_status av_detect(av_pipeline *p, const av_image *img, const av_box *roi, const av_detect_opts *opts,
                               av_face *faces, size_t cap, size_t *n_found, av_err *err)
{
    AV_TRY
    {
        if (!p || !img || !n_found || (cap && !faces))
            return avi::fail(err, AV_E_ARG,
                             "av_detect: pipeline, image, n_found (and faces when "
                             "cap > 0) are required");
        *n_found = 0;
        av_detect_opts o;
        av_status st = resolve_opts(opts, &o, err);
        if (st != AV_OK) return st;
        const cv::Mat &m = img->bgr;
        cv::Rect r(0, 0, m.cols, m.rows);
        if (roi) {
            if (!(roi->x1 < roi->x2 && roi->y1 < roi->y2))
                return avi::fail(err, AV_E_ARG, "av_detect: empty region of interest");
            const int x1 = (int)std::floor(std::max(0.f, roi->x1));
            const int y1 = (int)std::floor(std::max(0.f, roi->y1));
            const int x2 = (int)std::ceil(std::min((float)m.cols, roi->x2));
            const int y2 = (int)std::ceil(std::min((float)m.rows, roi->y2));
            if (x2 - x1 < 8 || y2 - y1 < 8)
                return avi::fail(err, AV_E_ARG,
                                 "av_detect: region of interest outside the image "
                                 "or smaller than 8x8");
            r = cv::Rect(x1, y1, x2 - x1, y2 - y1);
        }
        const std::vector<pass> passes = plan(r, o);
        if ((int)passes.size() > o.max_passes)
            return avi::fail(err, AV_E_ARG,
                             "finding %d px faces in %dx%d needs %zu detector passes, over the "
                             "limit of %d (raise min_face_px or use a region of interest)",
                             o.min_face_px, r.width, r.height, passes.size(), o.max_passes);
        std::vector<cand> cands;
        for (const pass &ps : passes) run_pass(p, m, ps, o.score_min, cands);

        const float min_h = 0.8f * (float)o.min_face_px;
        cands.erase(
            std::remove_if(cands.begin(), cands.end(), [min_h](const cand &c) { return c.b.y2 - c.b.y1 < min_h; }),
            cands.end());
        std::stable_sort(cands.begin(), cands.end(), [](const cand &a, const cand &b) { return a.score > b.score; });
        std::vector<av_face> kept;
        std::vector<char> dead(cands.size(), 0);
        for (size_t i = 0; i < cands.size(); i++) {
            if (dead[i]) continue;
            for (size_t j = i + 1; j < cands.size(); j++)
                if (!dead[j] && iou(cands[i].b, cands[j].b) > o.nms_iou) dead[j] = 1;
            av_face f{};
            f.box = cands[i].b;
            f.score = cands[i].score;
            kept.push_back(f);
        }
        avi::sort_faces_by_area(kept);
        *n_found = kept.size();
        const size_t n = std::min(cap, kept.size());
        std::copy(kept.begin(), kept.begin() + n, faces);
        if (o.landmarks && n > 0) {
            st = av_landmarks(p, img, faces, n, err);
            if (st != AV_OK) return st;
        }
        return avi::ok(err);
    }
    AV_CATCH(err, "av_detect")
}
