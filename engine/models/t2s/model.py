"""The text-to-semantic GPT of GPT-SoVITS v2: phonemes + BERT features + prompt codes -> semantic codes.

State-dict keys equal the official s1 checkpoint's ``weight`` keys without their ``model.`` prefix.

What goes in (the official inference does this, spec §2.1 and §6.5):
    phone_ids = reference-transcript phones + target-text phones          [1, T]
    bert      = cat([reference BERT, target BERT], dim=-1)                 [1, 1024, T]
    prompt    = the reference clip's semantic codes (25 Hz)                [1, P]
The sequence is [text; audio]: text positions 0..T-1, audio positions 0..P-1 (each with its own sine
encoding). Text attends to all text and no audio; audio attends to all text and causally to audio. The
last prompt position predicts the first new code. Only the *target* phones go to SoVITS afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.errors import ModelError
from engine.models.state import mismatch
from engine.models.t2s.config import T2SConfig
from engine.models.t2s.embedding import SinePositionalEncoding, TokenEmbedding
from engine.models.t2s.kvcache import KVCache
from engine.models.t2s.sampling import Sampler, SamplingParams
from engine.models.t2s.static import BUCKET, make_step
from engine.models.t2s.transformer import T2SStack

log = logging.getLogger(__name__)

STOP_EOS_SAMPLED = "eos_sampled"
STOP_EOS_ARGMAX = "eos_argmax"
STOP_MAX_STEPS = "max_steps"


@dataclass
class DecodeStep:
    """One decode step: the sampled token and why decoding stops here (``None`` = it goes on)."""

    index: int
    token: int
    stop: str | None


@dataclass
class T2SLoss:
    """Result of :meth:`Text2Semantic.training_loss`."""

    loss: torch.Tensor  # summed cross-entropy (reduction "sum", as the reference)
    num_targets: int
    accuracy: float  # top-1 over the counted targets


def prefix_mask(text_len: int, audio_len: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean [S, S] mask (S = text+audio), True where a query may attend to a key."""
    s = text_len + audio_len
    mask = torch.zeros(s, s, dtype=torch.bool, device=device)
    mask[:, :text_len] = True
    mask[text_len:, text_len:] = torch.ones(audio_len, audio_len, dtype=torch.bool, device=device).tril()
    return mask


class Text2Semantic(nn.Module):
    """``Text2SemanticDecoder``-compatible GPT with KV-cache decoding and the reference's sampling."""

    def __init__(self, config: T2SConfig) -> None:
        super().__init__()
        self.config = config
        d = config.hidden_dim
        self.bert_proj = nn.Linear(config.bert_dim, d)
        self.ar_text_embedding = TokenEmbedding(config.phoneme_vocab_size, d, config.embedding_dropout)
        self.ar_text_position = SinePositionalEncoding(d, config.pe_rows, config.position_dropout)
        self.ar_audio_embedding = TokenEmbedding(config.vocab_size, d, config.embedding_dropout)
        self.ar_audio_position = SinePositionalEncoding(d, config.pe_rows, config.position_dropout)
        self.h = T2SStack(config)
        self.ar_predict_layer = nn.Linear(d, config.vocab_size, bias=False)

    # ------------------------------------------------------------------ official weights

    def load_official(self, weight: Mapping[str, torch.Tensor]) -> None:
        """Load an s1 checkpoint's ``weight`` dict strictly (``model.`` prefix optional; fp16 is upcast)."""
        state = {k.removeprefix("model."): v for k, v in weight.items()}
        detail = mismatch(self.state_dict(), state)
        if detail:
            raise ModelError(
                f"These GPT weights do not fit the GPT-SoVITS v2 text-to-semantic model ({detail}).",
                "Use a GPT-SoVITS v2 GPT file (an s1 .ckpt such as the v2 pretrained s1bert25hz-5kh-longer).",
            )
        self.load_state_dict(state, strict=True)
        if self.int8_decode:
            self.enable_int8_decode()  # refresh the int8 copies from the new weights
        if self.fast_cpu:
            self.enable_fast_cpu()  # likewise the fast path's int8 and bf16 copies

    @property
    def int8_decode(self) -> bool:
        """Whether decode steps use int8 weight copies (see :meth:`enable_int8_decode`)."""
        return any(layer.int8 is not None for layer in self.h.layers)

    def enable_int8_decode(self) -> None:
        """Opt-in CPU speed-up: decode steps use per-row int8 weights with bf16 matmuls.

        About 2-3x faster per token on CPU; the logits differ slightly from float32, so tokens are not
        the reference's. The prefill, training and the state dict keep the float weights. Call it again
        after changing the weights; it is a CPU feature (the copies do not follow ``.to(device)``).
        """
        for layer in self.h.layers:
            layer.quantize_int8()

    def disable_int8_decode(self) -> None:
        """Drop the int8 copies: decode steps use the float weights again."""
        for layer in self.h.layers:
            layer.int8 = None

    @property
    def fast_cpu(self) -> bool:
        """Whether inference takes the fast CPU path (see :meth:`enable_fast_cpu`)."""
        return self.h.fast

    def enable_fast_cpu(self) -> None:
        """Opt-in CPU speed-up of the whole inference: a bf16 prefill and int8 decode steps.

        The prefill runs its matmuls and attention in bf16 (bf16 copies of the layer matrices); decode
        steps use per-row int8 copies with bf16 matmuls and a leaner single-query attention. Residuals,
        layer norms, the KV cache, the output layer and sampling stay float32. It takes precedence over
        :meth:`enable_int8_decode`. The logits differ slightly from float32 (``tests/models/
        test_t2s_fast.py`` holds the gates); the parameters and state dict are untouched. Call it again
        after changing the weights (:meth:`load_official` does); the copies stay on the CPU.
        """
        for layer in self.h.layers:
            layer.make_fast()

    def disable_fast_cpu(self) -> None:
        """Drop the fast path's copies: inference uses the float weights (or int8 decode, if on) again."""
        for layer in self.h.layers:
            layer.fast = None

    def official_state_dict(self, dtype: torch.dtype = torch.float16) -> dict[str, torch.Tensor]:
        """The state dict as an official s1 file stores it: keys prefixed ``model.``, values in ``dtype``."""
        return {f"model.{k}": v.detach().to(dtype).clone() for k, v in self.state_dict().items()}

    # ------------------------------------------------------------------ building blocks

    def embed_text(self, phone_ids: torch.Tensor, bert: torch.Tensor) -> torch.Tensor:
        """Phone embedding + projected BERT feature + text position encoding: [B, T, D]."""
        x = self.ar_text_embedding(phone_ids) + self.bert_proj(bert.transpose(1, 2))
        return self.ar_text_position(x)

    def embed_audio(self, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Code embedding + audio position encoding starting at ``offset``: [B, N, D]."""
        return self.ar_audio_position(self.ar_audio_embedding(tokens), offset)

    def logits_full(self, phone_ids: torch.Tensor, bert: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Recompute the whole sequence without a cache; return the last position's logits [B, V]."""
        x = self.embed_text(phone_ids, bert)
        xy = torch.cat([x, self.embed_audio(tokens)], dim=1) if tokens.shape[1] else x
        mask = prefix_mask(x.shape[1], tokens.shape[1], x.device)
        return self.ar_predict_layer(self.h(xy, mask)[:, -1]).float()

    # ------------------------------------------------------------------ inference

    def _check_inputs(self, phone_ids: torch.Tensor, bert: torch.Tensor, prompt: torch.Tensor | None) -> None:
        if self.training:
            raise RuntimeError("call .eval() before inference (dropout is active in training mode)")
        if phone_ids.dim() != 2 or phone_ids.shape[0] != 1 or phone_ids.shape[1] == 0:
            raise ValueError(f"phone_ids must be [1, T] with T > 0, got {tuple(phone_ids.shape)}")
        if bert.shape != (1, self.config.bert_dim, phone_ids.shape[1]):
            raise ValueError(
                f"bert must be [1, {self.config.bert_dim}, {phone_ids.shape[1]}], got {tuple(bert.shape)}"
            )
        if prompt is not None and (prompt.dim() != 2 or prompt.shape[0] != 1):
            raise ValueError(f"prompt_tokens must be [1, P], got {tuple(prompt.shape)}")

    @torch.inference_mode()
    def decode_steps(
        self,
        phone_ids: torch.Tensor,
        bert: torch.Tensor,
        prompt_tokens: torch.Tensor | None,
        params: SamplingParams,
        *,
        max_steps: int | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
        eos_ban_steps: int | None = None,
        step_mode: str = "auto",
    ) -> Iterator[DecodeStep]:
        """Yield every sampled token with its stop flag, exactly as the reference's decode loop samples.

        Step ``idx`` drops the EOS column while ``idx < eos_ban_steps`` (11). Decoding stops when the sample
        is EOS or the argmax of the repetition-penalised logits is EOS, or after ``max_steps`` (1500).
        ``use_cache=False`` recomputes the whole sequence at every step (slow; for checks and baselines).
        ``step_mode``: "eager" (the cache sliced to its length), "static" (fixed shapes, see
        ``engine.models.t2s.static``), "graph" (the static step replayed as CUDA graphs, falling back to
        static) or "auto": graph on CUDA (unless int8 decoding is on), eager elsewhere. With
        :attr:`fast_cpu` on (CPU only) the cached decode takes the fast path, which is eager.
        """
        cfg = self.config
        self._check_inputs(phone_ids, bert, prompt_tokens)
        max_steps = cfg.max_steps if max_steps is None else max_steps
        ban = cfg.eos_ban_steps if eos_ban_steps is None else eos_ban_steps
        if max_steps <= 0:
            return
        device = self.bert_proj.weight.device
        phone_ids = phone_ids.to(device)
        bert = bert.to(device=device, dtype=self.bert_proj.weight.dtype)
        p = 0 if prompt_tokens is None else prompt_tokens.shape[1]
        history = torch.zeros(1, p + max_steps, dtype=torch.long, device=device)
        if p:
            history[:, :p] = prompt_tokens.to(device)
        t = phone_ids.shape[1]
        eos = cfg.eos

        cache = None
        fixed = None
        fast = use_cache and self.fast_cpu
        if step_mode == "auto":
            step_mode = "graph" if device.type == "cuda" and not (self.int8_decode or fast) else "eager"
        if step_mode not in ("eager", "static", "graph"):
            raise ValueError(f"unknown step_mode {step_mode!r}")
        if fast and (step_mode != "eager" or device.type != "cpu"):
            raise ValueError("the fast CPU path decodes eagerly on the CPU (disable_fast_cpu() elsewhere)")
        if use_cache:
            capacity = t + p + max_steps
            if step_mode != "eager":
                capacity = -(-capacity // BUCKET) * BUCKET
            cache = KVCache(
                cfg.n_layer, 1, cfg.n_head, cfg.head_dim, capacity,
                dtype=torch.float32 if fast else self.bert_proj.weight.dtype, device=device,
            )  # fmt: skip
            if step_mode != "eager":
                cache.k.zero_()
                cache.v.zero_()
            x = self.embed_text(phone_ids, bert)
            xy = torch.cat([x, self.embed_audio(history[:, :p])], dim=1) if p else x
            stack = self.h.forward_fast if fast else self.h
            hidden = stack(xy, prefix_mask(t, p, device), cache)
            logits = self.ar_predict_layer(hidden[:, -1]).float()
            fixed = None if fast else make_step(self, cache, p, step_mode)
        else:
            logits = self.logits_full(phone_ids, bert, history[:, :p])

        sampler = Sampler(params, cfg.vocab_size, device=device, generator=generator)
        sampler.observe(history[:, :p])  # the prompt; each sample joins the history as it is drawn
        for idx in range(max_steps):
            if idx < ban:
                logits = logits[:, :eos]  # EOS is the last column: it cannot be sampled yet
            token, tok, best = sampler.step(logits)  # one device sync
            stop = None
            if tok == eos:
                stop = STOP_EOS_SAMPLED
            elif best == eos:
                stop = STOP_EOS_ARGMAX
            elif idx == max_steps - 1:
                stop = STOP_MAX_STEPS
            yield DecodeStep(idx, tok, stop)
            if stop is not None:
                return
            if fixed is not None:
                logits = fixed(token)
            elif cache is not None:
                step = self.h.step_fast if fast else self.h.step
                hidden = step(self.embed_audio(token, offset=p + idx), cache)
                logits = self.ar_predict_layer(hidden[:, -1]).float()
            else:
                history[0, p + idx] = tok
                logits = self.logits_full(phone_ids, bert, history[:, : p + idx + 1])

    def infer_stream(
        self,
        phone_ids: torch.Tensor,
        bert: torch.Tensor,
        prompt_tokens: torch.Tensor | None,
        *,
        top_k: int = 15,
        top_p: float = 1.0,
        temperature: float = 1.0,
        repetition_penalty: float = 1.35,
        max_steps: int | None = None,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        use_cache: bool = True,
    ) -> Iterator[int]:
        """Yield the new semantic tokens one by one as they are sampled.

        Every token up to (not including) the stopping step's sample is yielded, which is what the
        official pipeline keeps when decoding ends on EOS (sampled, or only the argmax). At the step cap
        the stream also yields the cap step's sample; :meth:`infer` instead keeps steps 1..N-1 there
        when a prompt is given (the reference's rule, which drops a token a stream has already handed
        out), so only in that case the two differ. If nothing is left, a single 0 is yielded.
        """
        emitted = 0
        for step in self._steps(
            phone_ids, bert, prompt_tokens, top_k, top_p, temperature, repetition_penalty,
            max_steps, generator, seed, use_cache,
        ):  # fmt: skip
            if step.stop in (STOP_EOS_SAMPLED, STOP_EOS_ARGMAX):
                break
            yield step.token
            emitted += 1
        if emitted == 0:
            yield 0  # the reference's "bad zero prediction"

    def _steps(
        self,
        phone_ids: torch.Tensor,
        bert: torch.Tensor,
        prompt_tokens: torch.Tensor | None,
        top_k: int,
        top_p: float,
        temperature: float,
        repetition_penalty: float,
        max_steps: int | None,
        generator: torch.Generator | None,
        seed: int | None,
        use_cache: bool,
    ) -> Iterator[DecodeStep]:
        params = SamplingParams(top_k, top_p, temperature, repetition_penalty)
        if generator is None and seed is not None:
            generator = torch.Generator(device=self.bert_proj.weight.device).manual_seed(seed)
        for step in self.decode_steps(
            phone_ids, bert, prompt_tokens, params, max_steps=max_steps, generator=generator,
            use_cache=use_cache,
        ):  # fmt: skip
            if step.stop is not None:
                log.debug("t2s stopped at step %d (%s)", step.index, step.stop)
            yield step

    def infer(
        self,
        phone_ids: torch.Tensor,
        bert: torch.Tensor,
        prompt_tokens: torch.Tensor | None,
        *,
        top_k: int = 15,
        top_p: float = 1.0,
        temperature: float = 1.0,
        repetition_penalty: float = 1.35,
        max_steps: int | None = None,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        use_cache: bool = True,
    ) -> torch.Tensor:
        """Generate the semantic tokens for SoVITS: LongTensor [1, N], prompt excluded, EOS stripped.

        ``phone_ids`` [1, T] = reference phones + target phones; ``bert`` [1, 1024, T] likewise concatenated;
        ``prompt_tokens`` [1, P] = the reference's codes (``None`` or P = 0: reference-free). A ``generator``
        (or ``seed``) makes the output reproducible; ``use_cache=False`` recomputes every step.

        Trimming is the official pipeline's (``infer_panel_naive`` + ``inference_webui``, which hands
        SoVITS ``y[:, -idx:]``): when decoding stops on EOS (sampled, or only the argmax of the penalised
        logits) at step ``idx``, the tokens of steps 0..idx-1 are kept and the stopping sample is dropped.
        At the step cap N without EOS the reference's ``-idx`` slice keeps steps 1..N-1 when a prompt is
        given, and all N steps in reference-free mode. If nothing is left, a single 0 (its "bad zero
        prediction").
        """
        has_prompt = prompt_tokens is not None and prompt_tokens.shape[1] > 0
        tokens: list[int] = []
        for step in self._steps(
            phone_ids, bert, prompt_tokens, top_k, top_p, temperature, repetition_penalty,
            max_steps, generator, seed, use_cache,
        ):  # fmt: skip
            if step.stop in (STOP_EOS_SAMPLED, STOP_EOS_ARGMAX):
                break
            tokens.append(step.token)
            if step.stop == STOP_MAX_STEPS and has_prompt:
                tokens = tokens[1:]
        if not tokens:
            tokens = [0]
        return torch.tensor([tokens], dtype=torch.long, device=self.bert_proj.weight.device)

    # ------------------------------------------------------------------ training

    def training_loss(
        self,
        phone_ids: torch.Tensor,
        phone_lens: torch.Tensor,
        bert: torch.Tensor,
        codes: torch.Tensor,
        code_lens: torch.Tensor,
        *,
        predict_first: bool = True,
    ) -> T2SLoss:
        """Summed cross-entropy of a right-padded batch (the fine-tune objective, DPO off).

        phone_ids [B, T] and bert [B, 1024, T] are right-padded to T = max(phone_lens); codes [B, N] are
        right-padded to N = max(code_lens). Targets are each item's codes followed by EOS. Audio position i
        predicts code i+1 (the last real code predicts EOS). With ``predict_first`` (spec §2.2's advice for
        our own fine-tunes) the last real text position also predicts code 0; without it, code 0 is never a
        target, as in the code that trained the pretrained checkpoint. Padding is masked as keys and never
        counted as a target.
        """
        cfg = self.config
        b, t = phone_ids.shape
        n = codes.shape[1]
        device = phone_ids.device
        phone_lens = phone_lens.to(device)
        code_lens = code_lens.to(device)

        x = self.embed_text(phone_ids, bert)
        codes_in = codes.clamp(0, cfg.eos).masked_fill(
            torch.arange(n, device=device) >= code_lens[:, None], 0
        )
        xy = torch.cat([x, self.embed_audio(codes_in)], dim=1)

        key_ok = torch.cat(
            [
                torch.arange(t, device=device) < phone_lens[:, None],
                torch.arange(n, device=device) < code_lens[:, None],
            ],
            dim=1,
        )  # [B, S]
        mask = prefix_mask(t, n, device).unsqueeze(0) & key_ok[:, None, :]  # [B, S, S]
        hidden = self.h(xy, mask.unsqueeze(1))

        first = hidden[torch.arange(b, device=device), phone_lens - 1].unsqueeze(1)  # [B, 1, D]
        states = torch.cat([first, hidden[:, t:]], dim=1)  # state j predicts target j, j = 0..N
        logits = self.ar_predict_layer(states)  # [B, N+1, V]

        j = torch.arange(n + 1, device=device)
        padded = torch.cat([codes_in, torch.zeros(b, 1, dtype=torch.long, device=device)], dim=1)
        targets = torch.where(j[None] < code_lens[:, None], padded, torch.full_like(padded, cfg.eos))
        targets = targets.masked_fill(j[None] > code_lens[:, None], -100)
        if not predict_first:
            targets[:, 0] = -100
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), targets.reshape(-1), reduction="sum")
        counted = targets != -100
        with torch.no_grad():
            correct = ((logits.argmax(-1) == targets) & counted).sum().item()
        total = int(counted.sum().item())
        return T2SLoss(loss=loss, num_targets=total, accuracy=correct / max(total, 1))
