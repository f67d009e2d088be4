"""Text-to-semantic GPT on CPU with V2-sized random weights: prefill and decode tokens/s, peak memory.

Baselines measured in the same run:
- "no cache": recompute the whole [text; audio] sequence at every step (the reference's slow ``infer``);
- "cat cache": a KV cache grown with ``torch.cat`` each step, as the reference's default
  ``infer_panel_naive`` does (written here in that style, with the same weights and sampler).
Ours: the pre-allocated KV cache (``Text2Semantic.decode_steps``), in float32 (the reference's numerics)
and with the opt-in int8 decode weights (``enable_int8_decode``). EOS is banned for every step so all
runs decode the same number of tokens. Set T2S_BENCH_STEPS to change the decode length. Each number is
measured at 1 and at 2 threads: on a machine whose cores are busy with other work, 2 threads can be far
slower than 1 for these small per-token matmuls.
"""

from __future__ import annotations

import os
import resource
import time

import torch
import torch.nn.functional as F

from engine.models.t2s import V2, SamplingParams, Text2Semantic, prefix_mask
from engine.models.t2s.kvcache import KVCache
from engine.models.t2s.sampling import sample_next

TEXT_LEN = 100  # reference + target phones of two short sentences
PROMPT_LEN = 150  # 6 s of reference at 25 Hz
DECODE_STEPS = int(os.environ.get("T2S_BENCH_STEPS", "100"))
NO_CACHE_STEPS = 4
REPEATS = 3  # best of, against noise from other processes


def _inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    phones = torch.randint(0, V2.phoneme_vocab_size, (1, TEXT_LEN), generator=g)
    bert = torch.randn(1, V2.bert_dim, TEXT_LEN, generator=g)
    prompt = torch.randint(0, 1024, (1, PROMPT_LEN), generator=g)
    return phones, bert, prompt


def _ours(model: Text2Semantic, steps: int, use_cache: bool = True) -> tuple[float, float]:
    """Return (seconds to the first token, decode tokens/s after it)."""
    phones, bert, prompt = _inputs()
    it = model.decode_steps(
        phones, bert, prompt, SamplingParams(), max_steps=steps, eos_ban_steps=steps,
        generator=torch.Generator().manual_seed(0), use_cache=use_cache,
    )  # fmt: skip
    t0 = time.perf_counter()
    next(it)
    t1 = time.perf_counter()
    n = sum(1 for _ in it)
    t2 = time.perf_counter()
    return t1 - t0, n / (t2 - t1)


@torch.inference_mode()
def _prefill(model: Text2Semantic) -> float:
    """Prefill tokens/s: the [text; prompt] pass that fills the cache."""
    phones, bert, prompt = _inputs()
    cfg = model.config
    cache = KVCache(cfg.n_layer, 1, cfg.n_head, cfg.head_dim, TEXT_LEN + PROMPT_LEN + 1)
    t0 = time.perf_counter()
    xy = torch.cat([model.embed_text(phones, bert), model.embed_audio(prompt)], dim=1)
    model.h(xy, prefix_mask(TEXT_LEN, PROMPT_LEN), cache)
    return (TEXT_LEN + PROMPT_LEN) / (time.perf_counter() - t0)


@torch.inference_mode()
def _cat_cache(model: Text2Semantic, steps: int) -> float:
    """Decode tokens/s of a reference-style KV cache grown by torch.cat (prefill not counted)."""
    phones, bert, prompt = _inputs()
    cfg = model.config
    h, d = cfg.n_head, cfg.hidden_dim
    layers = list(model.h.layers)
    xy = torch.cat([model.embed_text(phones, bert), model.embed_audio(prompt)], dim=1)
    ks, vs = [], []
    x = xy
    for layer in layers:  # prefill, keeping [B, S, D] keys and values as the reference does
        q, k, v = F.linear(x, layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias).chunk(3, dim=-1)
        ks.append(k)
        vs.append(v)
        x, _, _ = layer(x, prefix_mask(TEXT_LEN, PROMPT_LEN))
    logits = model.ar_predict_layer(x[:, -1])
    history = prompt.clone()
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for idx in range(steps):
        token, _ = sample_next(logits[:, : cfg.eos], history, SamplingParams(), g)
        history = torch.cat([history, token], dim=1)
        x = model.embed_audio(token, offset=PROMPT_LEN + idx)
        for i, layer in enumerate(layers):
            a = layer.self_attn
            q, k, v = F.linear(x, a.in_proj_weight, a.in_proj_bias).chunk(3, dim=-1)
            ks[i] = torch.cat([ks[i], k], dim=1)
            vs[i] = torch.cat([vs[i], v], dim=1)
            n = ks[i].shape[1]
            qh = q.view(1, 1, h, -1).transpose(1, 2)
            kh = ks[i].view(1, n, h, -1).transpose(1, 2)
            vh = vs[i].view(1, n, h, -1).transpose(1, 2)
            att = F.scaled_dot_product_attention(qh, kh, vh).permute(2, 0, 1, 3).reshape(1, d).view(1, 1, d)
            att = F.linear(att, a.out_proj.weight, a.out_proj.bias)
            x = F.layer_norm(x + att, [d], layer.norm1.weight, layer.norm1.bias, layer.norm1.eps)
            ff = F.linear(F.relu(F.linear(x, layer.linear1.weight, layer.linear1.bias)), layer.linear2.weight)
            x = F.layer_norm(
                x + ff + layer.linear2.bias, [d], layer.norm2.weight, layer.norm2.bias, layer.norm2.eps
            )
        logits = model.ar_predict_layer(x[:, -1])
    return steps / (time.perf_counter() - t0)


def _best(fn, *args) -> float:
    return max(fn(*args) for _ in range(REPEATS))


def _measure(model: Text2Semantic) -> dict[str, float]:
    """Every number at the current thread count; the two cached decoders alternate, best of each."""
    cat_cache, ours = 0.0, 0.0
    for _ in range(REPEATS):
        cat_cache = max(cat_cache, _cat_cache(model, DECODE_STEPS))
        ours = max(ours, _ours(model, DECODE_STEPS + 1)[1])
    model.enable_int8_decode()
    try:
        ours_int8 = max(_ours(model, DECODE_STEPS + 1)[1] for _ in range(REPEATS))
    finally:
        model.disable_int8_decode()
    return {
        "int8": ours_int8,
        "prefill": _best(_prefill, model),
        "first": min(_ours(model, 2)[0] for _ in range(REPEATS)),
        "no_cache": _ours(model, NO_CACHE_STEPS + 1, use_cache=False)[1],
        "cat_cache": cat_cache,
        "ours": ours,
    }


def main() -> None:
    """Print prefill/decode tokens/s of our decoder and of the two baselines, with ratios."""
    torch.manual_seed(0)
    model = Text2Semantic(V2).eval()
    before = torch.get_num_threads()
    counts = [1, 2] if (os.cpu_count() or 1) >= 2 else [1]
    print(f"V2 fp32 random weights, text {TEXT_LEN} + prompt {PROMPT_LEN} positions, {DECODE_STEPS} steps")
    try:
        for threads in counts:
            torch.set_num_threads(threads)
            r = _measure(model)
            print(f"-- {threads} thread(s)")
            print(f"prefill                      {r['prefill']:8.1f} tokens/s")
            print(f"time to first token          {r['first'] * 1000:8.1f} ms (prefill + first sample)")
            print(f"decode, baseline no cache    {r['no_cache']:8.2f} tokens/s ({NO_CACHE_STEPS} steps)")
            print(f"decode, baseline cat cache   {r['cat_cache']:8.2f} tokens/s")
            print(f"decode, ours                 {r['ours']:8.2f} tokens/s")
            print(f"decode, ours int8 (opt-in)   {r['int8']:8.2f} tokens/s (int8 weights, bf16 matmuls)")
            for name in ("no_cache", "cat_cache"):
                label = f"speed-up vs {name.replace('_', ' ')}"
                print(f"{label:<29}{r['ours'] / r[name]:8.2f}x (int8: {r['int8'] / r[name]:.2f}x)")
    finally:
        torch.set_num_threads(before)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS                     {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()
