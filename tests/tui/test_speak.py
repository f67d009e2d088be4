"""Pilot tests of the Speak screen with a TINY voice: type, speak, WAV or player, history, stop, download."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
import soundfile as sf
from rich.cells import cell_len
from textual.widgets import TextArea
from tiny_voice import build_pretrained, capped_factory, espeak, make_voice
from tui_fakes import make_app, screen_text

from engine.weights import locate
from tui.screens.speak import FILES, SpeakScreen

SIZE = (80, 24)
TEXT = "Hello world. This is Timbre speaking. A third short sentence."


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    return build_pretrained(tmp_path_factory.mktemp("pretrained"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return espeak("The north wind and the sun were disputing which was the stronger",
                  tmp_path_factory.mktemp("ref") / "ref.wav")  # fmt: skip


@pytest.fixture
def tiny_env(pretrained, monkeypatch, tmp_path):
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(pretrained))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return pretrained


class FakePlayer:
    """Stands in for StreamPlayer: keeps every chunk it is fed, 'plays' at once."""

    instances: list[FakePlayer] = []

    def __init__(self, device, samplerate) -> None:
        self.device, self.samplerate = device, samplerate
        self.chunks: list[np.ndarray] = []
        self.finished = self.stopped = False
        self.first_sample_at: float | None = None
        self.instances.append(self)

    def feed(self, chunk) -> None:
        if self.first_sample_at is None:
            self.first_sample_at = time.perf_counter()
        self.chunks.append(np.asarray(chunk))

    def finish(self) -> None:
        self.finished = True

    def stop(self) -> None:
        self.stopped = True

    def wait(self, timeout=None) -> bool:
        return True

    @property
    def active(self) -> bool:
        return False


async def wait_until(pilot, condition, timeout: float = 90.0, what: str = "") -> None:
    """Poll ``condition`` while the app runs (the machine is loaded: generous timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what or condition}; screen:\n{screen_text(pilot.app)}")


async def open_speak(app, pilot, **kwargs) -> SpeakScreen:
    await pilot.pause()
    app.push_screen(SpeakScreen(**kwargs))
    await wait_until(pilot, lambda: isinstance(app.screen, SpeakScreen), what="Speak screen")
    return app.screen


async def test_type_speak_writes_wav_without_device(studio_home, audio, tiny_env, reference):
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    factory = capped_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(app, pilot, voice="tiny", output=FILES, synthesizer_factory=factory)
        await wait_until(pilot, lambda: screen.state == "ready", what="models loaded")
        assert "Ready: tiny" in screen_text(app)
        await pilot.press(*"Hello world.")
        area = screen.query_one("#speak-text", TextArea)
        area.insert(" 你好, this is fine!")  # CJK (pasted) in the same text
        assert area.text == "Hello world. 你好, this is fine!"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.history, what="an utterance")
        ((number, utt),) = screen.history
        assert not utt.played and utt.path is not None
        assert utt.path.parent == studio_home / "voices" / "tiny" / "speak"
        data, rate = sf.read(utt.path, dtype="float32")
        assert rate == 32000 and len(data) == utt.audio.size > 0
        assert utt.first_audio_s is not None and utt.total_s >= utt.first_audio_s
        host = socket.gethostname()

        def commands_shown() -> bool:
            joined = "".join(screen_text(app).split())  # path and commands may wrap: compare without spaces
            return f"scp{host}:" in joined and "|play-twav-" in joined and utt.path.name in joined

        await wait_until(pilot, commands_shown, what="the file's path and commands")
        text = screen_text(app)
        assert "first audio" in text and "RTF" in text
        assert all(cell_len(line) <= 80 for line in text.splitlines())


async def test_history_replay_save_copy_delete(studio_home, audio, tiny_env, reference):
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    FakePlayer.instances.clear()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(
            app, pilot, voice="tiny", output=0, synthesizer_factory=capped_factory(),
            player_factory=FakePlayer, text="One sentence. Two sentences.",
        )  # fmt: skip
        await wait_until(pilot, lambda: screen.state == "ready", what="models loaded")
        for _ in range(2):
            count = len(screen.history)
            await pilot.press("f5")
            await wait_until(pilot, lambda c=count: len(screen.history) == c + 1 and screen.state == "ready")
        player = FakePlayer.instances[0]
        assert player.finished and len(player.chunks) == 2  # one chunk per sentence, one stream
        utt = screen.history[-1][1]
        assert utt.played and utt.path is None
        assert np.array_equal(np.concatenate(FakePlayer.instances[1].chunks), utt.audio)
        assert "▶ played" in screen_text(app)
        speak_dir = studio_home / "voices" / "tiny" / "speak"
        assert not speak_dir.exists()  # played, so nothing written until asked
        await pilot.press("tab", "tab")  # text → settings? walk focus to the history table
        table = screen.query_one("#speak-history")
        while screen.focused is not table:
            await pilot.press("tab")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.history[-1][1].path is not None, what="saved")
        saved = screen.history[-1][1].path
        assert saved.parent == speak_dir and saved.is_file() and "One-sentence" in saved.name
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == str(saved)
        count = len(FakePlayer.instances)
        await pilot.press("p")
        await wait_until(pilot, lambda: len(FakePlayer.instances) == count + 1, what="replay")
        assert np.array_equal(FakePlayer.instances[-1].chunks[0], screen.history[-1][1].audio)
        await pilot.press("d")
        await wait_until(pilot, lambda: len(screen.history) == 1, what="deleted")
        assert not saved.exists()


async def test_stop_ends_speech_between_sentences(studio_home, audio, tiny_env, reference):
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    gate = threading.Event()
    FakePlayer.instances.clear()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(
            app, pilot, voice="tiny", output=0, synthesizer_factory=capped_factory(gate),
            player_factory=FakePlayer, text=TEXT,
        )  # fmt: skip
        await wait_until(pilot, lambda: screen.state == "ready", what="models loaded")
        await pilot.press("ctrl+r")
        await wait_until(
            pilot, lambda: FakePlayer.instances and FakePlayer.instances[0].chunks, what="chunk 1"
        )
        assert screen.state == "speaking" and "▶ Speaking" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.state == "stopping")
        assert isinstance(app.screen, SpeakScreen)  # esc while speaking stops, it does not leave
        gate.set()
        await wait_until(pilot, lambda: screen.state == "ready", what="stopped")
        utt = screen.history[-1][1]
        assert utt.stopped and FakePlayer.instances[0].stopped
        assert len(FakePlayer.instances[0].chunks) == 1  # the later sentences were not played
        assert "Stopped" in screen_text(app) and "■ stopped" in screen_text(app)
        await pilot.press("escape")  # quiet now: back to Home
        await wait_until(pilot, lambda: not isinstance(app.screen, SpeakScreen), what="back home")


async def test_missing_files_are_named_and_offline_download_fails_fast(studio_home, audio, reference,
                                                                      monkeypatch, tmp_path):  # fmt: skip
    monkeypatch.delenv(locate.PRETRAINED_ENV, raising=False)
    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(app, pilot, voice="tiny", output=FILES)
        await wait_until(pilot, lambda: screen.state == "missing", what="missing files")
        text = " ".join(screen_text(app).split())
        assert "Missing model files" in text and "GPT" in text and "ctrl+g" in text
        started = time.monotonic()
        await pilot.press("ctrl+g")  # HF_HUB_OFFLINE=1 in tests: refused at once
        await wait_until(pilot, lambda: screen.state == "missing" and "HF_HUB_OFFLINE" in screen_text(app))
        assert time.monotonic() - started < 30  # no retries (generous: only against 24 s of retrying)
        assert not cache.exists()  # nothing created
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not screen.history


async def test_download_shows_progress_then_loads(studio_home, audio, reference, pretrained,
                                                  monkeypatch, tmp_path):  # fmt: skip
    from engine.weights import download as dl
    from engine.weights import fetch

    local = tmp_path / "local"
    monkeypatch.setenv(locate.PRETRAINED_ENV, str(local))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(fetch, "check_online", lambda timeout=0: None)
    seen: list[tuple[int, int | None]] = []

    def fake_download(keys, *, local_dir=None, cache_dir=None, progress=True, tqdm_class=None):
        import shutil

        from engine.weights.registry import part

        out = []
        for f in part(keys[0]).files:
            src = pretrained / f.path
            bar = tqdm_class(total=src.stat().st_size, initial=0, desc=f.path)
            half = src.stat().st_size // 2
            bar.update(half)
            bar.update(src.stat().st_size - half)
            bar.close()
            seen.append((src.stat().st_size, bar.total))
            (local / f.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, local / f.path)
            out.append(local / f.path)
        return out

    monkeypatch.setattr(dl, "download", fake_download)
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    progress: list[object] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(
            app, pilot, voice="tiny", output=FILES, synthesizer_factory=capped_factory()
        )
        original = screen._download_progress
        screen._download_progress = lambda p: (progress.append(p), original(p))  # type: ignore[method-assign]
        await wait_until(pilot, lambda: screen.state == "missing", what="missing files")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: screen.state == "ready", what="downloaded and loaded")
    assert seen and all(total == size for size, total in seen)
    assert progress and any(p.total and p.done == p.total for p in progress)
    assert "MB" in progress[-1].line()


async def test_speak_screen_at_80x24_snapshot(studio_home, audio, tiny_env, reference):
    make_voice(studio_home, "tiny", reference)
    make_voice(studio_home, "other", reference)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(
            app, pilot, voice="tiny", output=FILES, synthesizer_factory=capped_factory()
        )
        await wait_until(pilot, lambda: screen.state == "ready", what="models loaded")
        await wait_until(pilot, lambda: "Stop/Back" in screen_text(app).splitlines()[-1], what="key bar")
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) <= 24 and all(cell_len(line) <= 80 for line in lines)
        assert "Speak" in lines[0]
        top = next(line for line in lines if "Voice" in line)
        assert "tiny" in top and "Language" in top and "auto" in top
        for label, default in (("speed", "1.0"), ("temperature", "1.0"), ("top_k", "15"), ("top_p", "1.0"),
                               ("seed", "random"), ("pause s", "0.3")):  # fmt: skip
            row = next(line for line in lines if label in line)
            assert default in row, row
        assert "Output: files" in text
        assert "# " in text and "Text" in text and "Where" in text  # the history's header
        footer = lines[-1]
        assert "Speak" in footer and "Stop/Back" in footer and "Output" in footer
        assert "Download" not in footer  # only offered while files are missing
        await pilot.press("question_mark")
        await pilot.pause()
        assert "ctrl+r" in screen_text(app)


def test_no_torch_on_import_of_the_speak_screen():
    import subprocess
    import sys

    code = (
        "import sys; import tui.screens.speak, tui.widgets.utterances, tui.widgets.synth_settings;"
        "print(any(m in sys.modules for m in ('torch', 'transformers', 'librosa')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.timeout(180)
async def test_speak_reaches_the_null_sink(studio_home, audio, tiny_env, reference):
    import os
    import shutil
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tiny_voice import SinkRecorder, best_correlation
    from virtual_mic import tools_available, virtual_microphone

    if shutil.which("parec") is None or not tools_available():
        if os.environ.get("CI"):
            pytest.fail("pulseaudio / pulseaudio-utils are not installed (the CI script must install them)")
        pytest.skip("pulseaudio is not installed")
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    with virtual_microphone(32000) as mic:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_speak(app, pilot, voice="tiny", synthesizer_factory=capped_factory(),
                                      text="Hello world. This is the sink.")  # fmt: skip
            await wait_until(pilot, lambda: screen.state == "ready" and screen.output not in (None, FILES),
                             what="models loaded and an output device found")  # fmt: skip
            recorder = SinkRecorder(mic)
            await pilot.pause(0.3)
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: screen.history and screen.state == "ready", what="spoken")
            await pilot.pause(0.5)
            recorded = recorder.stop()
    utt = screen.history[-1][1]
    assert utt.played and utt.path is None and utt.first_audio_s is not None
    assert not (studio_home / "voices" / "tiny" / "speak").exists()
    speech = utt.audio[: 32000 // 2]  # the first half second must be heard as it was made
    assert best_correlation(recorded, speech) > 0.9


async def test_ctrl_o_rescans_and_switches_output(studio_home, audio, tiny_env, reference, monkeypatch):
    from engine.audio import stream_player as sp

    devices = [sp.OutputDevice(3, "Laptop speakers (forwarded)", "ALSA", 2, 44100.0, True)]
    scans: list[int] = []
    monkeypatch.setattr(sp, "list_output_devices", lambda: [])
    monkeypatch.setattr(sp, "rescan_devices", lambda: scans.append(1) or list(devices))
    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(app, pilot, voice="tiny", synthesizer_factory=capped_factory())
        await wait_until(pilot, lambda: screen.output == FILES, what="no device at start: files")
        assert "Output: files (no output device)" in screen_text(app)
        await pilot.press("ctrl+o")  # the forwarded PulseAudio appeared after start
        await wait_until(pilot, lambda: screen.output == 3, what="switched to the new device")
        assert scans and "Output: Laptop speakers" in screen_text(app)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: screen.output == FILES, what="cycled back to files")


async def test_prepared_dialog_offers_a_voice_now(studio_home, audio):
    from rich.text import Text

    from tui.screens.review import PreparedDialog

    app = make_app(studio_home, audio)
    answers: list[object] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.push_screen(PreparedDialog(Text("Prepared."), offer_voice=True), callback=answers.append)
        await wait_until(pilot, lambda: "make a voice from this session now" in screen_text(app))
        await pilot.press("m")
        await wait_until(pilot, lambda: answers == ["voice"], what="the dialog's answer")


async def test_overlong_text_is_refused_and_escape_sequences_are_never_spoken(
    studio_home, audio, tiny_env, reference, monkeypatch
):
    from engine.text.input_text import MAX_TEXT_CHARS

    make_voice(studio_home, "tiny", reference)
    app = make_app(studio_home, audio)
    said: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_speak(
            app, pilot, voice="tiny", output=FILES, synthesizer_factory=capped_factory()
        )
        await wait_until(pilot, lambda: screen.state == "ready", what="models loaded")
        monkeypatch.setattr(screen, "_speak_worker", lambda text, *rest: said.append(text))
        messages: list[str] = []
        notify = app.notify
        monkeypatch.setattr(
            app, "notify", lambda message, **kw: (messages.append(message), notify(message, **kw))
        )
        area = screen.query_one("#speak-text", TextArea)
        area.text = "a" * (MAX_TEXT_CHARS + 1)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: messages, what="a refusal")
        assert not said and any("too long" in m.lower() for m in messages)
        area.text = "Hello \x1b[31mworld\x1b[0m."
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: said, what="speaking")
        assert said == ["Hello world."]
