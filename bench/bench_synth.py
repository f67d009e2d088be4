"""End-to-end synthesis on CPU with V2-sized random weights: RTF, time to first audio, peak memory.

Random weights never choose EOS, so each sentence is capped at TOKENS_PER_PIECE semantic tokens (the
length a real model gives for ~10 Mandarin characters). The sentence has 20 characters and a comma, so
it streams as two pieces. The baseline, measured in the same run, is the plain non-streaming path in
fp32: a fresh synthesizer per request (reference features recomputed), weight norm left in the SoVITS
decoder, and the caller waiting for the whole text. "ours" is the engine's default on this machine (on
a CPU with bf16 instructions the gated fast path: int8/bf16 GPT, bf16 vocoder stages), "ours fp32" the
same engine with the reference's numerics. Every row at 1 and 2 threads; TIMBRE_BENCH_THREADS fixes one
count. Goals (issue 12): RTF <= 0.4 on 2 cores, first audio <= 0.6 s for this 20-character sentence.

On a CUDA machine (:func:`gpu`, run at the end of :func:`main`; one skip line elsewhere) the same request
is timed on the GPU with the GPT and SoVITS in fp32, fp16 and bf16, set up the way ``load_models`` does
with the engine's ``resolve_device``/``resolve_precision`` (HuBERT and BERT stay fp32), next to the
issue-5 goals for an H100: first audio under 100 ms, more than 1000 GPT tokens/s.
"""

from __future__ import annotations

import copy
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

TEXT = "今天的天气非常好，我们一起去公园散步吧。"  # 20 characters (18 hanzi + 2 marks)
REF_TEXT = "北风和太阳正在争论谁的本领更大。"
TOKENS_PER_PIECE = 64
CHUNK_TOKENS = 24  # streaming below the sentence: first part 8 tokens, then every 24
SEED = 0
ROUNDS = 2
GPU_ROUNDS = 5
GOAL_FIRST_MS = 100.0  # first audio, on an H100
GOAL_TOKENS_S = 1000.0  # GPT decode, on an H100


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reference(folder: Path) -> Path:
    """A 3–10 s Mandarin clip from espeak-ng (a synthetic vowel-like signal when it is missing)."""
    import soundfile as sf

    path = folder / "ref.wav"
    if shutil.which("espeak-ng"):
        subprocess.run(
            ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "130", "-w", str(path), REF_TEXT],
            check=True,
            timeout=60,
        )
        if 3.0 <= sf.info(str(path)).duration <= 10.0:
            return path
    t = np.arange(int(4.0 * 32000)) / 32000
    wav = 0.3 * np.sin(2 * np.pi * 140 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    sf.write(str(path), wav.astype(np.float32), 32000)
    return path


def _random_sovits(remove_weight_norm: bool):
    """A V2 SoVITS generator with random weights (the same ones on every call)."""
    from engine.models.sovits import V2 as SOVITS_V2
    from engine.models.sovits import SynthesizerTrn

    torch.manual_seed(SEED)
    sovits = SynthesizerTrn(SOVITS_V2)
    with torch.no_grad():
        sovits.quantizer.vq.layers[0]._codebook.embed.normal_()
        for name, p in sovits.named_parameters():
            if name.endswith((".post.weight", ".post.bias")):
                p.normal_(0, 0.01)  # zero-initialised flow outputs would make the flow an identity
    del sovits.enc_q
    if remove_weight_norm:
        sovits.remove_weight_norm()
    return sovits.eval()


def _random_models():
    """V2-sized GPT, SoVITS, chinese-hubert-base and chinese-roberta-wwm-ext-large with random weights."""
    from transformers import BertConfig, BertModel, BertTokenizer, HubertConfig, HubertModel

    from engine.models.bert import BertFeatures
    from engine.models.hf_util import quiet_transformers
    from engine.models.ssl import SslModel
    from engine.models.t2s import V2 as GPT_V2
    from engine.models.t2s import Text2Semantic
    from engine.synth import Models

    torch.manual_seed(SEED)
    gpt = Text2Semantic(GPT_V2).eval()
    with quiet_transformers():
        hubert = HubertModel(
            HubertConfig(feat_extract_norm="group", conv_bias=False, do_stable_layer_norm=False)
        ).eval()  # the chinese-hubert-base layout: 12 x 768
        bert = BertModel(
            BertConfig(
                vocab_size=21128, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                intermediate_size=4096,
            ),
            add_pooling_layer=False,
        ).eval()  # fmt: skip
    chars = dict.fromkeys(TEXT + REF_TEXT + "，。！？")
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars])}
    tokenizer = BertTokenizer(vocab=vocab)
    return Models(gpt, _random_sovits(True), SslModel(hubert), bert=BertFeatures(bert, tokenizer))


def _no_sync() -> None:
    return None


def _timed(models, sync: Callable[[], None] = _no_sync) -> dict[str, float]:
    """Wrap the GPT decode loop and SoVITS decode of ``models`` to add up their time (``sync`` ends each).

    The synthesiser iterates ``gpt.decode_steps`` (to judge a pass while it runs); the time spent inside
    each step is counted, and every step is one token. The streaming decoder calls SoVITS's parts
    directly, so only whole-sentence decodes are counted under "sovits".
    """
    spent = {"gpt": 0.0, "sovits": 0.0, "tokens": 0, "sovits_tokens": 0}
    steps, decode = models.gpt.decode_steps, models.sovits.decode

    def gpt_steps(*args, **kwargs):
        it = steps(*args, **kwargs)
        while True:
            sync()
            start = time.perf_counter()
            try:
                step = next(it)
            except StopIteration:
                spent["gpt"] += time.perf_counter() - start
                return
            sync()
            spent["gpt"] += time.perf_counter() - start
            spent["tokens"] += 1
            yield step

    def sovits_decode(codes, *args, **kwargs):
        sync()
        start = time.perf_counter()
        out = decode(codes, *args, **kwargs)
        sync()
        spent["sovits"] += time.perf_counter() - start
        spent["sovits_tokens"] += int(codes.shape[-1])
        return out

    models.gpt.decode_steps, models.sovits.decode = gpt_steps, sovits_decode
    return spent


def _run(synth, params, wall_start: float, chunk_tokens: int | None = None) -> tuple[float, float, float]:
    """(time to first audio, total time, audio seconds) for one streamed request."""
    from engine.synth import SAMPLE_RATE

    first = None
    samples = 0
    for chunk in synth.stream(TEXT, params, chunk_tokens=chunk_tokens):
        first = first if first is not None else time.perf_counter() - wall_start
        samples += len(chunk.audio)
    return first or 0.0, time.perf_counter() - wall_start, samples / SAMPLE_RATE


def _baseline_run(voice, base, params) -> tuple[float, float, float]:
    """The baseline request: a fresh synthesizer (reference recomputed), the whole text awaited."""
    from engine.synth import SAMPLE_RATE, Synthesizer

    start = time.perf_counter()
    audio = Synthesizer(voice, models=base).synthesize(TEXT, params)
    total = time.perf_counter() - start
    return total, total, len(audio) / SAMPLE_RATE


def _rates(spent: dict[str, float], sample_rate: int) -> tuple[float, float]:
    """(GPT tokens/s with prefills included, SoVITS whole-sentence decode RTF) of one timed model set."""
    tps = spent["tokens"] / spent["gpt"] if spent["gpt"] else float("nan")
    audio = spent["sovits_tokens"] * 1280 / sample_rate
    return tps, (spent["sovits"] / audio if audio else float("nan"))


GOAL_RTF = 0.4  # a whole sentence end to end on 2 cores (issue 12)
GOAL_FIRST_S = 0.6  # first audio of a 20-character sentence, reference cached (issue 12)


def main() -> None:
    """Print end-to-end RTF, time to first audio and peak memory, with ratios to the baseline."""
    from engine.models.runtime import choose_precision, configure_threads
    from engine.synth import SAMPLE_RATE, Models, Synthesizer, SynthParams, apply_precision
    from engine.text.frontend import frontend
    from engine.voice import Voice

    bench_threads = os.environ.get("TIMBRE_BENCH_THREADS")  # e.g. 1 on a crowded machine
    threads = configure_threads(int(bench_threads) if bench_threads else None)  # else $TIMBRE_THREADS
    counts = (
        [threads] if bench_threads else sorted({1, 2, threads} & set(range(1, (os.cpu_count() or 1) + 1)))
    )
    rss0 = _rss_mib()
    folder = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    rows = []
    try:
        voice = Voice.zero_shot(_reference(folder), REF_TEXT, "zh")
        start = time.perf_counter()
        exact = _random_models()  # fp32: the reference's numerics
        build_s = time.perf_counter() - start
        chosen = choose_precision(None, torch.device("cpu"))  # what load_models picks on this machine
        ours = Models(copy.deepcopy(exact.gpt), copy.deepcopy(exact.sovits), exact.ssl, bert=exact.bert)
        apply_precision(ours.gpt, ours.sovits, chosen)
        # baseline: fp32, a fresh synthesizer per request, weight norm kept, the whole text awaited
        base = Models(exact.gpt, _random_sovits(False), exact.ssl, bert=exact.bert)
        rss_models = _rss_mib()
        frontend("预热一下。", "zh")  # load jieba/pypinyin outside the timings
        params = SynthParams(seed=SEED, max_steps=TOKENS_PER_PIECE, language="zh")
        synth = Synthesizer(voice, models=ours)
        start = time.perf_counter()
        synth.reference()
        ref_s = time.perf_counter() - start
        synth_exact = Synthesizer(voice, models=exact)
        synth_exact.reference()
        _run(synth, params, time.perf_counter(), chunk_tokens=CHUNK_TOKENS)  # warm-up (kernel choice)
        timers = {"ours": _timed(ours), "exact": _timed(exact)}  # base shares exact's GPT
        for n in counts:
            torch.set_num_threads(n)
            runs: dict[str, list[tuple[float, float, float]]] = {
                "whole": [],
                "parts": [],
                "exact": [],
                "base": [],
            }
            for t in timers.values():
                t.update(gpt=0.0, sovits=0.0, tokens=0, sovits_tokens=0)
            for _ in range(ROUNDS):  # interleaved, best of each kept: the machine's load drifts
                runs["whole"].append(_run(synth, params, time.perf_counter()))
                runs["parts"].append(_run(synth, params, time.perf_counter(), chunk_tokens=CHUNK_TOKENS))
                runs["exact"].append(_run(synth_exact, params, time.perf_counter()))
                runs["base"].append(_baseline_run(voice, base, params))
            best = {k: min(v, key=lambda r: r[1]) for k, v in runs.items()}  # the fastest round of each
            rows.append((n, best, _rates(timers["ours"], SAMPLE_RATE), _rates(timers["exact"], SAMPLE_RATE)))
        torch.set_num_threads(threads)
        rss_ours = _rss_mib()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print("CPU; V2-sized random weights (GPT 77.6 M, SoVITS, HuBERT-base, BERT-large)")
    print(f"text: {TEXT!r} ({len(TEXT)} chars), capped at {TOKENS_PER_PIECE} tokens per piece")
    print(f"ours = the engine's default here: {chosen.describe()}; exact = ours in fp32 (reference numerics)")
    print(f"model build (random init): {build_s:.1f} s; reference prepared once in {ref_s:.2f} s")
    for n, best, (tps, sovits_rtf), (tps_exact, sovits_exact) in rows:
        rtf = {k: r[1] / r[2] for k, r in best.items()}
        first = {k: r[0] for k, r in best.items()}
        print(f"-- {n} thread(s)")
        print(
            f"baseline (fp32, weight norm, fresh synthesizer): first audio {first['base']:.2f} s, "
            f"RTF {rtf['base']:.3f}"
        )
        print(
            f"ours fp32, whole sentences:        first audio {first['exact']:.2f} s, RTF {rtf['exact']:.3f}"
        )
        print(
            f"ours, whole sentences:             first audio {first['whole']:.2f} s, RTF {rtf['whole']:.3f}"
        )
        print(
            f"ours, streaming (chunk_tokens={CHUNK_TOKENS}):     first audio {first['parts']:.2f} s, "
            f"RTF {rtf['parts']:.3f}"
        )
        ok_rtf = ("meets" if rtf["whole"] <= GOAL_RTF else "misses") if n == 2 else "the goal is for"
        ok_first = "meets" if first["parts"] <= GOAL_FIRST_S else "misses"
        print(
            f"ratio baseline/ours: RTF x{rtf['base'] / rtf['whole']:.2f} "
            f"({ok_rtf} RTF <= {GOAL_RTF} on 2 cores), "
            f"first audio x{first['base'] / first['parts']:.2f} streaming ({ok_first} <= {GOAL_FIRST_S} s), "
            f"x{first['base'] / first['whole']:.2f} whole sentences"
        )
        print(
            f"inside: GPT {tps:.1f} tokens/s ours vs {tps_exact:.1f} fp32 "
            f"(prefill included, x{tps / tps_exact:.2f}); "
            f"SoVITS decode RTF {sovits_rtf:.3f} ours vs {sovits_exact:.3f} fp32"
        )
    print(f"peak RSS: start {rss0:.0f} MiB, models {rss_models:.0f} MiB, after synthesis {rss_ours:.0f} MiB")
    print(f"(best of {ROUNDS} interleaved rounds each; fp32 and baseline share one GPT copy)")
    gpu(exact)


def _on_device(cpu, device: torch.device, dtype: torch.dtype):
    """Copies of the GPT and SoVITS of ``cpu`` on ``device`` in ``dtype``, as ``load_models`` casts them."""
    from engine.synth import Models

    gpt = copy.deepcopy(cpu.gpt).to(device).to(dtype)
    gpt.__dict__.pop("decode_steps", None)  # a timing wrapper set by _timed would call the CPU model
    gpt.disable_int8_decode()
    sovits = copy.deepcopy(cpu.sovits).to(device).to(dtype)
    sovits.__dict__.pop("decode", None)
    return Models(gpt, sovits, cpu.ssl, bert=cpu.bert, device=device)


def gpu(cpu_models=None) -> None:
    """Time to first audio, RTF and GPT tokens/s on CUDA per precision (one skip line without CUDA)."""
    if not torch.cuda.is_available():
        print("cuda: no usable GPU here, GPU rows skipped (fp32/fp16/bf16 first audio and RTF)")
        return
    from engine.models.runtime import PRECISIONS, resolve_device, resolve_precision
    from engine.synth import SAMPLE_RATE, Synthesizer, SynthParams
    from engine.text.frontend import frontend
    from engine.voice import Voice

    device = resolve_device("cuda")
    cpu_models = cpu_models or _random_models()
    for wrapper in (cpu_models.ssl, cpu_models.bert):  # fp32 on the device, as load_models leaves them
        wrapper.model.to(device)
    frontend("预热一下。", "zh")

    def sync() -> None:
        torch.cuda.synchronize(device)

    params = SynthParams(seed=SEED, max_steps=TOKENS_PER_PIECE, language="zh")
    print(
        f"-- cuda: {torch.cuda.get_device_name(device)}; goals on an H100: first audio < "
        f"{GOAL_FIRST_MS:.0f} ms, GPT > {GOAL_TOKENS_S:.0f} tokens/s"
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-synth-gpu-"))
    try:
        voice = Voice.zero_shot(_reference(folder), REF_TEXT, "zh")
        for name in PRECISIONS:
            dtype = resolve_precision(name, device)
            if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
                print(f"[{name}] not supported by this GPU, skipped")
                continue
            models = _on_device(cpu_models, device, dtype)
            synth = None
            try:
                synth = Synthesizer(voice, models=models)
                synth.reference()  # once per voice, outside the timings
                _run(synth, params, time.perf_counter())  # warm-up: kernel choice, allocator
                spent = _timed(models, sync)
                torch.cuda.reset_peak_memory_stats(device)
                runs = [_run(synth, params, time.perf_counter()) for _ in range(GPU_ROUNDS)]
                peak = torch.cuda.max_memory_allocated(device) / 2**20
                _run(synth, params, time.perf_counter(), chunk_tokens=CHUNK_TOKENS)  # warm-up of the parts
                parts = [
                    _run(synth, params, time.perf_counter(), chunk_tokens=CHUNK_TOKENS)
                    for _ in range(GPU_ROUNDS)
                ]
            finally:
                del synth, models
                torch.cuda.empty_cache()
            _, total, audio_s = min(runs, key=lambda r: r[1])
            first_ms = min(r[0] for r in parts) * 1000  # streaming below the sentence
            whole_ms = min(r[0] for r in runs) * 1000
            gpt_tps, sovits_rtf = _rates(spent, SAMPLE_RATE)
            ok_first = "meets" if first_ms < GOAL_FIRST_MS else "misses"
            ok_tps = "meets" if gpt_tps > GOAL_TOKENS_S else "misses"
            print(f"[{name}]")
            print(
                f"  time to first audio  {first_ms:8.1f} ms streaming, chunk_tokens={CHUNK_TOKENS} "
                f"({ok_first} < {GOAL_FIRST_MS:.0f} ms); {whole_ms:.1f} ms whole sentences"
            )
            print(f"  total {total * 1000:.0f} ms for {audio_s:.2f} s of audio: RTF {total / audio_s:.4f}")
            print(f"  GPT {gpt_tps:8.1f} tokens/s, prefill included ({ok_tps} > {GOAL_TOKENS_S:.0f})")
            print(f"  SoVITS decode RTF {sovits_rtf:.4f}; peak GPU memory {peak:.0f} MiB")
        print(f"(best of {GPU_ROUNDS} rounds after one warm-up; the reference prepared once per precision)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
