// dwconv.cpp: a 3x3 depthwise convolution layer for OpenCV 4.6 DNN. OpenCV's own fast path needs
// input planes at least 18 px wide; narrower planes (14x14, 8x10, 7x7...) fall back to a slow
// im2row path that costs ~40% of the embedding net. This layer computes those planes directly.
//
// It is installed through cv::dnn::LayerFactory for type "Convolution": the constructor returns
// OpenCV's own layer for anything that is not a 3x3 depthwise convolution, or when the creating
// thread has not enabled it (AV_PIPE_STOCK_LAYERS). The wrapper keeps OpenCV's layer as `inner`
// and delegates shapes, fused activations and the planes OpenCV already handles well.
#include "internal.hpp"

#include <opencv2/dnn/all_layers.hpp>
#include <opencv2/dnn/layer.hpp>

#include <cstring>
#include <mutex>

namespace
{

using cv::Mat;
using cv::Ptr;
using cv::dnn::ActivationLayer;
using cv::dnn::Layer;
using cv::dnn::LayerParams;

thread_local bool t_enabled = false;

typedef float v8f __attribute__((vector_size(32)));
// Unaligned, aliasing view of 8 floats: `*(const v8u *)p` is a plain unaligned load.
typedef float v8u __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD8(p) (*(const v8u *)(p))

// One channel, stride 1. `pad` is the zero-padded input (ph x pw, pw a multiple of 8 plus 8
// slack), out is oh x ow; row holds ceil(ow/8)*8 floats.
__attribute__((target_clones("arch=haswell", "default"))) void dw_plane_s1(const float *pad, int pw, float *out, int oh,
                                                                           int ow, const float *w, float bias,
                                                                           float *row)
{
    const v8f w0 = v8f{} + w[0], w1 = v8f{} + w[1], w2 = v8f{} + w[2];
    const v8f w3 = v8f{} + w[3], w4 = v8f{} + w[4], w5 = v8f{} + w[5];
    const v8f w6 = v8f{} + w[6], w7 = v8f{} + w[7], w8 = v8f{} + w[8];
    const v8f vb = v8f{} + bias;
    for (int y = 0; y < oh; y++) {
        const float *r0 = pad + (size_t)y * pw, *r1 = r0 + pw, *r2 = r1 + pw;
        for (int x = 0; x < ow; x += 8) {
            v8f s = vb;
            s += w0 * LOAD8(r0 + x) + w1 * LOAD8(r0 + x + 1) + w2 * LOAD8(r0 + x + 2);
            s += w3 * LOAD8(r1 + x) + w4 * LOAD8(r1 + x + 1) + w5 * LOAD8(r1 + x + 2);
            s += w6 * LOAD8(r2 + x) + w7 * LOAD8(r2 + x + 1) + w8 * LOAD8(r2 + x + 2);
            *(v8u *)(row + x) = s;
        }
        std::memcpy(out + (size_t)y * ow, row, (size_t)ow * sizeof(float));
    }
}

// One channel, any stride (used for stride 2 on narrow planes).
void dw_plane_sn(const float *pad, int pw, float *out, int oh, int ow, const float *w, float bias, int stride)
{
    for (int y = 0; y < oh; y++) {
        const float *r0 = pad + (size_t)y * stride * pw, *r1 = r0 + pw, *r2 = r1 + pw;
        float *o = out + (size_t)y * ow;
        for (int x = 0; x < ow; x++) {
            const int i = x * stride;
            o[x] = bias + w[0] * r0[i] + w[1] * r0[i + 1] + w[2] * r0[i + 2] + w[3] * r1[i] + w[4] * r1[i + 1] +
                w[5] * r1[i + 2] + w[6] * r2[i] + w[7] * r2[i + 1] + w[8] * r2[i + 2];
        }
    }
}

class DwConv3x3 final : public Layer
{
  public:
    DwConv3x3(const LayerParams &params, Ptr<Layer> inner, int stride, int pad)
        : inner_(std::move(inner)), stride_(stride), pad_(pad)
    {
        setParamsFrom(params);
        const Mat &wb = params.blobs[0];
        channels_ = wb.size[0];
        weights_.assign(wb.ptr<float>(), wb.ptr<float>() + (size_t)channels_ * 9);
        bias_.assign(channels_, 0.f);
        if (params.blobs.size() > 1) std::memcpy(bias_.data(), params.blobs[1].ptr<float>(), channels_ * sizeof(float));
    }

    bool supportBackend(int backend) CV_OVERRIDE { return backend == cv::dnn::DNN_BACKEND_OPENCV; }

    bool getMemoryShapes(const std::vector<cv::dnn::MatShape> &inputs, const int required,
                         std::vector<cv::dnn::MatShape> &outputs,
                         std::vector<cv::dnn::MatShape> &internals) const CV_OVERRIDE
    {
        return inner_->getMemoryShapes(inputs, required, outputs, internals);
    }

    int64 getFLOPS(const std::vector<cv::dnn::MatShape> &inputs,
                   const std::vector<cv::dnn::MatShape> &outputs) const CV_OVERRIDE
    {
        return inner_->getFLOPS(inputs, outputs);
    }

    bool setActivation(const Ptr<ActivationLayer> &layer) CV_OVERRIDE
    {
        if (layer.empty()) {
            inner_->setActivation(layer);
            activ_.release();
            return false;
        }
        if (!inner_->setActivation(layer)) return false;
        activ_ = layer;
        return true;
    }

    void finalize(cv::InputArrayOfArrays in, cv::OutputArrayOfArrays out) CV_OVERRIDE
    {
        inner_->finalize(in, out);
        std::vector<Mat> inputs;
        in.getMatVector(inputs);
        const int w = inputs[0].size[3];
        // OpenCV's vectorised path needs width >= 18. Measured per layer (one thread): ours is
        // 5-10x faster below that, equal around 28-40 px, slower from ~56 px (the padded copy
        // costs more than it saves), and ours is scalar for stride 2.
        own_ = inputs[0].dims == 4 && inputs[0].type() == CV_32F && inputs[0].size[1] == channels_ &&
            (stride_ == 1 ? w < 48 : w < 18);
    }

    void forward(cv::InputArrayOfArrays in, cv::OutputArrayOfArrays out, cv::OutputArrayOfArrays internals) CV_OVERRIDE
    {
        if (!own_) {
            inner_->forward(in, out, internals);
            return;
        }
        std::vector<Mat> inputs, outputs;
        in.getMatVector(inputs);
        out.getMatVector(outputs);
        const Mat &src = inputs[0];
        Mat &dst = outputs[0];
        const int n = src.size[0], c = src.size[1], h = src.size[2], w = src.size[3];
        const int oh = dst.size[2], ow = dst.size[3];
        const int pw = ((w + 2 * pad_ + 7) & ~7) + 8; // room for 8-wide loads past the edge
        const int ph = h + 2 * pad_ + 1;
        const float *sp = src.ptr<float>();
        float *dp = dst.ptr<float>();
        const ActivationLayer *act = activ_.get();
        const int total = n * c;
        const int stride = stride_, padv = pad_;
        const float *wts = weights_.data(), *bias = bias_.data();

        cv::parallel_for_(
            cv::Range(0, total),
            [&](const cv::Range &r) {
                cv::AutoBuffer<float> buf((size_t)pw * ph + pw);
                float *padded = buf.data(), *row = padded + (size_t)pw * ph;
                std::memset(padded, 0, (size_t)pw * ph * sizeof(float));
                for (int i = r.start; i < r.end; i++) {
                    const int ch = i % c;
                    const float *ip = sp + (size_t)i * h * w;
                    float *op = dp + (size_t)i * oh * ow;
                    for (int y = 0; y < h; y++)
                        std::memcpy(padded + (size_t)(y + padv) * pw + padv, ip + (size_t)y * w,
                                    (size_t)w * sizeof(float));
                    if (stride == 1) dw_plane_s1(padded, pw, op, oh, ow, wts + (size_t)ch * 9, bias[ch], row);
                    else dw_plane_sn(padded, pw, op, oh, ow, wts + (size_t)ch * 9, bias[ch], stride);
                    if (act) act->forwardSlice(op, op, oh * ow, (size_t)oh * ow, ch, ch + 1);
                }
            },
            std::max(1.0, total / 16.0));
    }

  private:
    Ptr<Layer> inner_;           // OpenCV's convolution for the same parameters
    Ptr<ActivationLayer> activ_; // fused activation (PReLU/ReLU), applied after our planes
    std::vector<float> weights_; // channels x 9
    std::vector<float> bias_;    // channels
    int channels_ = 0;
    int stride_, pad_;
    bool own_ = false; // decided in finalize() from the input shape
};

bool int_list(const LayerParams &p, const char *key, int *v, int n, int dflt)
{
    if (!p.has(key)) {
        for (int i = 0; i < n; i++) v[i] = dflt;
        return true;
    }
    const cv::dnn::DictValue &d = p.get(key);
    if (d.size() == 1) {
        for (int i = 0; i < n; i++) v[i] = d.get<int>(0);
        return true;
    }
    if (d.size() != n) return false;
    for (int i = 0; i < n; i++) v[i] = d.get<int>(i);
    return true;
}

Ptr<Layer> make_conv(LayerParams &params)
{
    Ptr<Layer> inner = cv::dnn::ConvolutionLayer::create(params);
    if (!t_enabled || params.has("pad_mode") || params.blobs.empty()) return inner;
    const Mat &wb = params.blobs[0];
    const int group = params.get<int>("group", 1), nout = params.get<int>("num_output", 0);
    int k[2], s[2], d[2], pd[4];
    if (wb.dims != 4 || wb.type() != CV_32F || wb.size[1] != 1 || wb.size[0] != nout || group != nout ||
        !int_list(params, "kernel_size", k, 2, 0) || !int_list(params, "stride", s, 2, 1) ||
        !int_list(params, "dilation", d, 2, 1) || !int_list(params, "pad", pd, 4, 0))
        return inner;
    if (k[0] != 3 || k[1] != 3 || d[0] != 1 || d[1] != 1 || s[0] != s[1] || s[0] < 1 || s[0] > 2 || pd[0] != pd[1] ||
        pd[0] != pd[2] || pd[0] != pd[3] || pd[0] < 0 || pd[0] > 1)
        return inner;
    if (params.blobs.size() > 1 && params.blobs[1].total() != (size_t)nout) return inner;
    return cv::makePtr<DwConv3x3>(params, inner, s[0], pd[0]);
}

std::once_flag g_registered;

} // namespace

void avi::dwconv_enable_for_thread(bool on)
{
    std::call_once(g_registered, [] { cv::dnn::LayerFactory::registerLayer("Convolution", make_conv); });
    t_enabled = on;
}
