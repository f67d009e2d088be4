"""SoVITS v2 decode speed on CPU with V2-sized random weights: real-time factor against in-run baselines."""

from __future__ import annotations

import copy
import os
import resource
import statistics
import time

import torch

SECONDS = 5.0
TOKENS = int(SECONDS * 25)  # 25 Hz semantic tokens -> 1280 samples each
PHONES = 40
REPEATS = 3


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best_of(fn, repeats: int = REPEATS) -> tuple[float, float]:
    """(median, min) seconds of `repeats` timed calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def _interleaved(fns: dict[str, object], repeats: int = 5) -> dict[str, float]:
    """Best-of-`repeats` seconds of each fn, timed round-robin (load from other processes hits all alike)."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _random_v2(device: torch.device, remove_weight_norm: bool = True, post_scale: float = 0.01):
    from engine.models.sovits import V2, SynthesizerTrn

    torch.manual_seed(0)
    model = SynthesizerTrn(V2)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".post.weight") or name.endswith(".post.bias"):
                p.normal_(0, post_scale)  # the flow's zero-initialised layers would make it an identity
        codebook = model.quantizer.vq.layers[0]._codebook
        codebook.embed.normal_()
    if remove_weight_norm:
        model.remove_weight_norm()
    return model.eval().to(device)


def main() -> None:
    """Print decode RTF against in-run baselines, per CPU thread count, and peak memory."""
    from engine.models.spec import spectrogram

    rss_start = _peak_rss_mib()
    default_threads = torch.get_num_threads()
    model = _random_v2(torch.device("cpu"))
    gen = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 1024, (1, 1, TOKENS), generator=gen)
    text = torch.randint(0, 732, (1, PHONES), generator=gen)
    ref_wav = torch.randn(1, int(32000 * SECONDS), generator=gen) * 0.1
    refer = spectrogram(ref_wav)
    audio_s = TOKENS * 1280 / 32000
    print(
        f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f} (other processes skew CPU timings)"
    )
    print(
        f"audio: {audio_s:.2f} s ({TOKENS} tokens, {PHONES} phones), V2 random weights, weight norm removed"
    )
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    baseline = _random_v2(torch.device("cpu"), remove_weight_norm=False)  # weight norm every forward
    fast_model = copy.deepcopy(model)
    fast_model.enable_fast_cpu()
    dec_only = copy.deepcopy(model)
    dec_only.enable_fast_cpu(flow=False, encoder=False)
    probe = copy.deepcopy(fast_model)
    with torch.inference_mode():  # disable_fast_cpu must give back the fp32 decode bit for bit
        ge0 = model.reference_embedding(refer)
        want = model.decode(codes, text, ge=ge0, noise_scale=0.0)
        probe.decode(codes, text, ge=ge0, noise_scale=0.0)
        probe.disable_fast_cpu()
        if not torch.equal(probe.decode(codes, text, ge=ge0, noise_scale=0.0), want):
            raise AssertionError("disable_fast_cpu did not restore the fp32 decode")
        del probe
    for threads in sorted({1, 2, default_threads}):
        torch.set_num_threads(threads)
        with torch.inference_mode():
            ge = model.reference_embedding(refer)
            dec_med, dec_min = _best_of(lambda ge=ge: model.decode(codes, text, ge=ge))
            ref_med, _ = _best_of(lambda: model.reference_embedding(refer))
            stft_med, _ = _best_of(lambda: spectrogram(ref_wav), repeats=10)
            mm_med, _ = _best_of(lambda: a @ b, repeats=10)
            base_med, _ = _best_of(lambda ge=ge: baseline.decode(codes, text, ge=ge))
            exact = model.decode(codes, text, ge=ge, noise_scale=0.0)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                bf16_med, _ = _best_of(lambda ge=ge: model.decode(codes, text, ge=ge))
                fast = model.decode(codes, text, ge=ge, noise_scale=0.0).float()
            fast_cpu = None
            if threads <= 2:
                fast_cpu = _fast_cpu_row(
                    fast_model, dec_only, model, baseline, codes, text, ge, exact, audio_s
                )
                fast_cpu += "\n" + _window_row(fast_model, model, baseline, codes, text, ge)
        rel = float((fast - exact).norm() / exact.norm())
        gflops = 2 * 1024**3 / mm_med / 1e9
        print(f"[cpu, {threads} thread(s)]")
        rtf = dec_med / audio_s
        print(f"  decode: median {dec_med * 1000:.0f} ms, min {dec_min * 1000:.0f} ms -> RTF {rtf:.3f}")
        print(
            f"  baseline with weight norm every forward: RTF {base_med / audio_s:.3f} "
            f"(ours x{base_med / dec_med:.2f})"
        )
        gate = "passes" if rel <= 1e-2 else "fails"
        print(
            f"  bf16 autocast (option): RTF {bf16_med / audio_s:.3f} (x{dec_med / bf16_med:.2f}), "
            f"rel-L2 vs fp32 {rel:.4f} ({gate} the 1e-2 gate)"
        )
        if fast_cpu is not None:
            print(fast_cpu)
        print(f"  reference embedding of a 5 s clip (once per voice): {ref_med * 1000:.1f} ms")
        print(
            f"  baseline STFT of the same audio: {stft_med * 1000:.2f} ms (decode {dec_med / stft_med:.0f}x)"
        )
        print(f"  baseline 1024^3 fp32 matmul: {mm_med * 1000:.2f} ms = {gflops:.1f} GFLOP/s")
        print(f"  decode = {dec_med / mm_med:.0f} such matmuls ({dec_med * gflops:.0f} GFLOP at that rate)")
    torch.set_num_threads(default_threads)
    print(_prior_row(codes, text, refer))
    print(f"peak RSS: {_peak_rss_mib():.0f} MiB (before building the model {rss_start:.0f} MiB)")
    if torch.cuda.is_available():
        _gpu(model, codes, text, refer, audio_s)


def _fast_cpu_row(
    fast_model, dec_only, model, baseline, codes, text, ge, exact: torch.Tensor, audio_s: float
) -> str:
    """`enable_fast_cpu` (copies of `model`) against our fp32 and the weight-norm baseline, interleaved."""
    fast = fast_model.decode(codes, text, ge=ge, noise_scale=0.0)
    rel = float((fast - exact).norm() / exact.norm())
    best = _interleaved(
        {
            "fast": lambda: fast_model.decode(codes, text, ge=ge),
            "dec_only": lambda: dec_only.decode(codes, text, ge=ge),
            "fp32": lambda: model.decode(codes, text, ge=ge),
            "baseline": lambda: baseline.decode(codes, text, ge=ge),
        }
    )
    gate = "passes" if rel <= 1e-2 else "fails"
    return (
        f"  fast CPU path (enable_fast_cpu; interleaved best of 5): RTF {best['fast'] / audio_s:.3f}, "
        f"x{best['baseline'] / best['fast']:.2f} vs the weight-norm baseline, "
        f"x{best['fp32'] / best['fast']:.2f} vs our fp32; rel-L2 vs fp32 {rel:.4f} ({gate} the 1e-2 gate)\n"
        f"    decoder only in bf16 (flow=False, encoder=False): RTF {best['dec_only'] / audio_s:.3f}, "
        f"x{best['baseline'] / best['dec_only']:.2f} vs the baseline"
    )


def _window_row(fast_model, model, baseline, codes, text, ge) -> str:
    """One streaming window (24 context + 24 new + 6 look-ahead tokens) and the first (12 + 6)."""
    parts = []
    for tokens in (54, 18):
        window = codes[..., :tokens]
        best = _interleaved(
            {
                "fast": lambda w=window: fast_model.decode(w, text, ge=ge),
                "fp32": lambda w=window: model.decode(w, text, ge=ge),
                "baseline": lambda w=window: baseline.decode(w, text, ge=ge),
            },
            repeats=9,
        )
        parts.append(
            f"{tokens} tokens {best['fast'] * 1000:.0f} ms (x{best['baseline'] / best['fast']:.2f} vs "
            f"baseline, x{best['fp32'] / best['fast']:.2f} vs fp32)"
        )
    return "  streaming windows, fast path: " + "; ".join(parts)


def _prior_row(codes, text, refer) -> str:
    """The fast path's error on the decoder input z where the flow matters (`.post` ~ normal(0, 0.1))."""
    model = _random_v2(torch.device("cpu"), post_scale=0.1)
    quantized = model._upsample(model.quantizer.decode(codes))
    lengths = torch.tensor([quantized.size(2)]), torch.tensor([text.size(1)])

    def prior():
        _, m_p, _, mask = model.enc_p(quantized, lengths[0], text, lengths[1], model._ge_text(ge))
        return m_p, mask, model.flow(m_p, mask, g=ge, reverse=True)

    def rel(a, b):
        return float((a.double() - b.double()).norm() / b.double().norm())

    with torch.inference_mode():
        ge = model.reference_embedding(refer)
        m_want, mask, z_want = prior()
        model.enable_fast_cpu()
        m_got, _, z_got = prior()
        z_flow = model.flow(m_want, mask, g=ge, reverse=True)
    return (
        f"fast path on z = flow^-1(enc_p), flow .post ~ N(0, 0.1) (the flow moves z by "
        f"{rel(z_want, m_want):.2f}): rel-L2 vs fp32 of m_p {rel(m_got, m_want):.4f} (bf16 FFNs), of the "
        f"flow alone {rel(z_flow, z_want):.4f} (its own change {rel(z_flow - m_want, z_want - m_want):.4f}), "
        f"of z {rel(z_got, z_want):.4f}"
    )


def _gpu(model, codes, text, refer, audio_s: float) -> None:
    """Same decode on the GPU in fp32 and fp16."""
    dev = torch.device("cuda")
    model = model.to(dev)
    codes, text, refer = codes.to(dev), text.to(dev), refer.to(dev)
    for dtype in (torch.float32, torch.float16):
        m = model.to(dtype)
        ge = m.reference_embedding(refer.to(dtype)).detach()
        torch.cuda.reset_peak_memory_stats()

        def run(m=m, ge=ge):
            m.decode(codes, text, ge=ge)
            torch.cuda.synchronize()

        with torch.inference_mode():
            med, _ = _best_of(run, repeats=10)
        peak = torch.cuda.max_memory_allocated() / 2**20
        print(f"cuda {dtype}: decode {med * 1000:.1f} ms -> RTF {med / audio_s:.4f}, peak {peak:.0f} MiB")
