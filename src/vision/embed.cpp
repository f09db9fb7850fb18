// embed.cpp: batched 512-d face embeddings from aligned crops (fr_feature.onnx), cosine
// similarity, and the largest-face template used by the CLI and enrolment.
#include "internal.hpp"

#include <algorithm>
#include <cmath>
#include <string.h>

namespace
{
// Wipes a Mat's pixels when the scope ends, however it ends (return, error, exception): the
// network's input is the face crop and its output the raw embedding, both biometric data that
// must not linger in buffers OpenCV reuses or frees later.
struct WipeMat {
    cv::Mat &m;
    ~WipeMat()
    {
        if (!m.empty() && m.isContinuous()) explicit_bzero(m.data, m.total() * m.elemSize());
    }
};
} // namespace

extern "C" av_status av_embed(av_pipeline *p, const av_crop *crops, size_t n, float *out, av_err *err)
{
    AV_TRY
    {
        if (!p || (n && (!crops || !out)))
            return avi::fail(err, AV_E_ARG, "av_embed: pipeline, crops and out are required");
        const int S = AV_CROP_SIZE;
        const size_t plane = (size_t)S * S;
        cv::dnn::Net &net = p->net[AVM_FEATURE];
        for (size_t base = 0; base < n; base += avi::kEmbedBatch) {
            const int b = (int)std::min<size_t>(avi::kEmbedBatch, n - base);
            const int shape[4] = {b, 3, S, S};
            p->blob.create(4, shape, CV_32F);
            for (int i = 0; i < b; i++) {
                const cv::Mat crop(S, S, CV_8UC3, const_cast<uint8_t *>(crops[base + i].bgr));
                avi::bgr_to_planar(crop, p->blob.ptr<float>() + (size_t)i * 3 * plane, 127.f, 1.f / 128.f, true);
            }
            WipeMat wipe_in{p->blob};
            net.setInput(p->blob);
            cv::Mat o = net.forward();
            WipeMat wipe_out{o};
            // The net's last Reshape hard-codes batch 1: a batch of b comes back as [1, b*512],
            // one face after another.
            if (o.total() != (size_t)b * AV_EMBED_DIM || o.type() != CV_32F)
                return avi::fail(err, AV_E_INTERNAL, "feature net returned %zu values for %d faces", o.total(), b);
            const float *src = o.ptr<float>();
            for (int i = 0; i < b; i++) {
                const float *e = src + (size_t)i * AV_EMBED_DIM;
                double ss = 0;
                for (int k = 0; k < AV_EMBED_DIM; k++) ss += (double)e[k] * e[k];
                if (!(ss > 1e-12) || !std::isfinite(ss))
                    return avi::fail(err, AV_E_INTERNAL, "feature net returned a null embedding");
                const float inv = (float)(1.0 / std::sqrt(ss));
                float *d = out + (base + i) * AV_EMBED_DIM;
                for (int k = 0; k < AV_EMBED_DIM; k++) d[k] = e[k] * inv;
            }
        }
        return avi::ok(err);
    }
    AV_CATCH(err, "av_embed")
}

extern "C" float av_similarity(const float *a, const float *b)
{
    if (!a || !b) return 0.f;
    float s = 0.f;
    for (int k = 0; k < AV_EMBED_DIM; k++) s += a[k] * b[k];
    return s;
}
