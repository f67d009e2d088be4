"""Word segmentation with part-of-speech tags (jieba), initialised lazily and quietly.

jieba writes a prefix-dictionary cache on first use; it goes to the user's cache folder (or the
system temp folder when that is not writable) and jieba's log output is silenced. Nothing touches
the network.

jieba's POS tagger decodes runs of unknown characters with a pure-Python Viterbi search that takes
milliseconds per run; here the same search runs on numpy arrays (identical scores and tie-breaking,
so identical output) and its results are memoised per run, which makes long texts fast.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import OrderedDict
from functools import cache

log = logging.getLogger(__name__)

_MIN_FLOAT = -3.14e100  # jieba's score for an unseen emission
_MEMO_SIZE = 50_000


def _cache_dir() -> str:
    try:
        from platformdirs import user_cache_dir

        path = os.path.join(user_cache_dir("timbre", appauthor=False), "jieba")
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except Exception:  # noqa: BLE001 - any failure here just means "use the temp folder"
        pass
    return tempfile.gettempdir()


class _PosModel:
    """jieba's POS HMM as dense arrays; states indexed in sorted (tuple) order."""

    def __init__(self) -> None:
        import numpy as np
        from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P

        self.np = np
        self.states = sorted(trans_P)
        index = {s: i for i, s in enumerate(self.states)}
        size = len(self.states)
        self.trans = np.full((size, size), -np.inf)
        for a, targets in trans_P.items():
            for b, p in targets.items():
                self.trans[index[a], index[b]] = p
        self.reachable = self.trans > -np.inf
        self.has_next = self.reachable.any(axis=1)
        self.start = np.array([start_P[s] for s in self.states])
        self._emit_p = emit_P
        self._char_states = char_state_tab_P
        self._index = index
        self._all = np.ones(size, dtype=bool)
        self._emit_cache: dict = {}
        self._allowed_cache: dict = {}

    def emit(self, ch: str):
        vec = self._emit_cache.get(ch)
        if vec is None:
            vec = self.np.array([self._emit_p[s].get(ch, _MIN_FLOAT) for s in self.states])
            self._emit_cache[ch] = vec
        return vec

    def allowed(self, ch: str):
        mask = self._allowed_cache.get(ch)
        if mask is None:
            listed = self._char_states.get(ch)
            if listed is None:
                mask = self._all
            else:
                mask = self.np.zeros(len(self.states), dtype=bool)
                mask[[self._index[s] for s in listed]] = True
            self._allowed_cache[ch] = mask
        return mask

    def decode(self, text: str) -> list[tuple[str, str]] | None:
        """Best state per character (None where jieba's own search would be needed)."""
        np = self.np
        active = self.allowed(text[0])
        scores = np.where(active, self.start + self.emit(text[0]), -np.inf)
        pointers: list = []
        for ch in text[1:]:
            prev = np.flatnonzero(active & self.has_next)
            if prev.size == 0:
                return None
            expected = self.reachable[prev].any(axis=0)
            current = self.allowed(ch) & expected
            if not current.any():
                current = expected
            cols = np.flatnonzero(current)
            totals = (scores[prev][:, None] + self.trans[np.ix_(prev, cols)]) + self.emit(ch)[cols][None, :]
            flipped = totals[::-1]  # ties go to the largest state, as max() over (score, state) does
            rows = flipped.argmax(axis=0)
            pointer = np.full(len(self.states), -1)
            pointer[cols] = prev[::-1][rows]
            scores = np.full(len(self.states), -np.inf)
            scores[cols] = flipped[rows, np.arange(cols.size)]
            pointers.append(pointer)
            active = current
        last = np.flatnonzero(active)
        state = int(last[::-1][scores[last][::-1].argmax()])
        route = [state]
        for pointer in reversed(pointers):
            state = int(pointer[state])
            route.append(state)
        route.reverse()
        return [self.states[i] for i in route]


@cache
def _tokenizers():
    import jieba
    import jieba.posseg
    from jieba.posseg import POSTokenizer, pair

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = _cache_dir()
    tokenizer.initialize()
    model = _PosModel()

    class FastPOSTokenizer(POSTokenizer):
        """POSTokenizer whose HMM decoding is vectorised and memoised."""

        def __init__(self, tok) -> None:
            super().__init__(tok)
            self.memo: OrderedDict[str, tuple[tuple[str, str], ...]] = OrderedDict()

        def _POSTokenizer__cut(self, sentence):  # noqa: N802 - overrides jieba's private method
            route = model.decode(sentence)
            if route is None:  # a dead end in the tag model: jieba would fail here; tag per character
                for ch in sentence:
                    yield pair(ch, self.word_tag_tab.get(ch, "x"))
                return
            begin = done = 0
            for i, (mark, tag) in enumerate(route):
                if mark == "B":
                    begin = i
                elif mark == "E":
                    yield pair(sentence[begin : i + 1], tag)
                    done = i + 1
                elif mark == "S":
                    yield pair(sentence[i], tag)
                    done = i + 1
            if done < len(sentence):
                yield pair(sentence[done:], route[done][1])

        def _POSTokenizer__cut_detail(self, sentence):  # noqa: N802 - overrides jieba's private method
            found = self.memo.get(sentence)
            if found is None:
                found = tuple(
                    (p.word, p.flag) for p in POSTokenizer._POSTokenizer__cut_detail(self, sentence)
                )
                self.memo[sentence] = found
                if len(self.memo) > _MEMO_SIZE:
                    self.memo.popitem(last=False)
            for word, flag in found:
                yield pair(word, flag)

    return tokenizer, FastPOSTokenizer(tokenizer)


# Longer "words" only come from the HMM gluing runs of unknown characters together (e.g. a long run
# of digits read out); they are re-cut with the dictionary alone so later steps stay linear.
_LONGEST_WORD = 12


def cut_with_pos(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech) pairs for ``text``."""
    tokenizer, pos_tokenizer = _tokenizers()
    out: list[tuple[str, str]] = []
    for p in pos_tokenizer.cut(text):
        if len(p.word) <= _LONGEST_WORD:
            out.append((p.word, p.flag))
        else:
            out.extend((piece, p.flag) for piece in tokenizer.cut(p.word, HMM=False))
    return out


@cache
def search_pieces(word: str) -> tuple[str, ...]:
    """The search-mode pieces of ``word`` (its dictionary sub-words and itself)."""
    tokenizer, _ = _tokenizers()
    return tuple(tokenizer.cut_for_search(word))
