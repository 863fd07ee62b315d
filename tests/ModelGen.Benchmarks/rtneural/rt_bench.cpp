// The RTNeural peer of tests/ModelGen.Benchmarks: RTNeural's compile-time ModelT behind a tiny C API that
// RtNeural.cs loads with NativeLibrary. RTNeural (MIT) is not part of this repository; build.sh beside this file
// fetches it (or takes RTNEURAL_ROOT) and builds build/librt_eigen_native.so.
//
// Weights arrive in PyTorch state_dict layout (weight_ih [G*H, I], weight_hh [G*H, H], bias_ih [G*H],
// bias_hh [G*H], head.weight [O, H], head.bias [O]) and are handed to the layers exactly as RTNeural's own
// torch_helpers::loadLSTM / loadGRU / loadDense do (transpose; LSTM bias = bias_ih + bias_hh; GRU r/z swapped,
// two bias rows).
#include <RTNeural/RTNeural.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#define API extern "C" __attribute__((visibility("default")))

namespace
{
using Vec2 = std::vector<std::vector<float>>;

// [rows, cols] row-major -> [cols][rows] (what setWVals / setUVals take: weights[in][G*H]).
Vec2 transpose(const float* w, int rows, int cols)
{
    Vec2 t(cols, std::vector<float>(rows));
    for(int r = 0; r < rows; ++r)
        for(int c = 0; c < cols; ++c)
            t[c][r] = w[r * cols + c];
    return t;
}

Vec2 rows(const float* w, int nrows, int ncols)
{
    Vec2 m(nrows, std::vector<float>(ncols));
    for(int r = 0; r < nrows; ++r)
        std::copy(w + r * ncols, w + (r + 1) * ncols, m[r].begin());
    return m;
}

void swap_rz(Vec2& m, int h)
{
    for(auto& v : m)
        std::swap_ranges(v.begin(), v.begin() + h, v.begin() + h);
}

template <typename Lstm>
void load_lstm(Lstm& lstm, int in, int h, const float* wih, const float* whh, const float* bih, const float* bhh)
{
    lstm.setWVals(transpose(wih, 4 * h, in));
    lstm.setUVals(transpose(whh, 4 * h, h));
    std::vector<float> b(4 * h);
    for(int i = 0; i < 4 * h; ++i)
        b[i] = bih[i] + bhh[i];
    lstm.setBVals(b);
}

template <typename Gru>
void load_gru(Gru& gru, int in, int h, const float* wih, const float* whh, const float* bih, const float* bhh)
{
    auto w = transpose(wih, 3 * h, in);
    swap_rz(w, h);
    gru.setWVals(w);
    auto u = transpose(whh, 3 * h, h);
    swap_rz(u, h);
    gru.setUVals(u);
    Vec2 b { std::vector<float>(bih, bih + 3 * h), std::vector<float>(bhh, bhh + 3 * h) };
    swap_rz(b, h);
    gru.setBVals(b);
}

struct Bench
{
    virtual ~Bench() = default;
    virtual void reset() = 0;
    virtual int in_size() const = 0;
    virtual int out_size() const = 0;
    // One step: forward(input) and a pointer to the model's outputs.
    virtual const float* step(const float* x) = 0;
    // n steps over a ring of `ring` inputs (already aligned copies), returns a checksum so nothing is elided.
    virtual double run(const float* xs, int ring, long n) = 0;
};

template <typename Model>
struct BenchT final : Bench
{
    Model model;
    void reset() override { model.reset(); }
    int in_size() const override { return Model::input_size; }
    int out_size() const override { return Model::output_size; }
    const float* step(const float* x) override
    {
        model.forward(x);
        return model.getOutputs();
    }
    double run(const float* xs, int ring, long n) override
    {
        constexpr int stride = (Model::input_size + 15) / 16 * 16; // 64-byte aligned rows
        float sink = 0.f;
        int r = 0;
        for(long s = 0; s < n; ++s)
        {
            sink += model.forward(xs + r * stride);
            if(++r == ring)
                r = 0;
        }
        return sink;
    }
};

template <int N>
using LstmN = RTNeural::ModelT<float, N, N, RTNeural::LSTMLayerT<float, N, N>>;
template <int N>
using GruN = RTNeural::ModelT<float, N, N, RTNeural::GRULayerT<float, N, N>>;
using Small = RTNeural::ModelT<float, 8, 4, RTNeural::LSTMLayerT<float, 8, 32>, RTNeural::DenseT<float, 32, 4>>;

template <int N>
Bench* make_lstm(const float* wih, const float* whh, const float* bih, const float* bhh)
{
    auto* b = new BenchT<LstmN<N>>();
    load_lstm(b->model.template get<0>(), N, N, wih, whh, bih, bhh);
    b->model.reset();
    return b;
}

template <int N>
Bench* make_gru(const float* wih, const float* whh, const float* bih, const float* bhh)
{
    auto* b = new BenchT<GruN<N>>();
    load_gru(b->model.template get<0>(), N, N, wih, whh, bih, bhh);
    b->model.reset();
    return b;
}

struct Handle
{
    Bench* bench;
    float* ring = nullptr; // aligned copy of the input ring
    int ring_len = 0;
    float* xbuf;           // aligned single-step input
};

int stride_of(int in) { return (in + 15) / 16 * 16; }
} // namespace

// kind: 0 = LSTM N->N, 1 = GRU N->N, 2 = LSTM 8->32 + Dense 32->4 (n ignored). Returns null for an unbuilt size.
API void* rt_create(int kind, int n, const float* wih, const float* whh, const float* bih, const float* bhh,
    const float* headw, const float* headb)
{
    Bench* b = nullptr;
    if(kind == 0)
    {
        switch(n)
        {
        case 4: b = make_lstm<4>(wih, whh, bih, bhh); break;
        case 16: b = make_lstm<16>(wih, whh, bih, bhh); break;
        case 32: b = make_lstm<32>(wih, whh, bih, bhh); break;
        case 64: b = make_lstm<64>(wih, whh, bih, bhh); break;
        }
    }
    else if(kind == 1)
    {
        switch(n)
        {
        case 16: b = make_gru<16>(wih, whh, bih, bhh); break;
        case 64: b = make_gru<64>(wih, whh, bih, bhh); break;
        }
    }
    else if(kind == 2)
    {
        auto* s = new BenchT<Small>();
        load_lstm(s->model.get<0>(), 8, 32, wih, whh, bih, bhh);
        s->model.get<1>().setWeights(rows(headw, 4, 32));
        s->model.get<1>().setBias(headb);
        s->model.reset();
        b = s;
    }
    if(!b)
        return nullptr;
    auto* h = new Handle { b };
    h->xbuf = static_cast<float*>(std::aligned_alloc(64, 64 * ((stride_of(b->in_size()) * 4 + 63) / 64)));
    std::memset(h->xbuf, 0, stride_of(b->in_size()) * 4);
    return h;
}

API void rt_destroy(void* p)
{
    auto* h = static_cast<Handle*>(p);
    std::free(h->ring);
    std::free(h->xbuf);
    delete h->bench;
    delete h;
}

API void rt_reset(void* p) { static_cast<Handle*>(p)->bench->reset(); }

// Copies `ring` inputs of in_size floats (packed) into an aligned ring used by rt_run.
API void rt_set_ring(void* p, const float* xs, int ring)
{
    auto* h = static_cast<Handle*>(p);
    int in = h->bench->in_size(), st = stride_of(in);
    std::free(h->ring);
    h->ring = static_cast<float*>(std::aligned_alloc(64, (size_t)ring * st * 4));
    std::memset(h->ring, 0, (size_t)ring * st * 4);
    for(int r = 0; r < ring; ++r)
        std::memcpy(h->ring + r * st, xs + r * in, in * 4);
    h->ring_len = ring;
}

// One step from a packed input; copies the model's outputs to out.
API void rt_step(void* p, const float* x, float* out)
{
    auto* h = static_cast<Handle*>(p);
    std::memcpy(h->xbuf, x, h->bench->in_size() * 4);
    const float* y = h->bench->step(h->xbuf);
    std::memcpy(out, y, h->bench->out_size() * 4);
}

// n steps over the ring; returns a checksum.
API double rt_run(void* p, long n)
{
    auto* h = static_cast<Handle*>(p);
    return h->bench->run(h->ring, h->ring_len, n);
}

API int rt_vector_bits()
{
#if defined(__AVX512F__)
    return 512;
#elif defined(__AVX2__)
    return 256;
#else
    return 128;
#endif
}
