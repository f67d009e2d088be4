"""The studio: the folder holding ``recordings/`` and ``voices/`` (DESIGN §3)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import StudioError
from engine.fsutil import inside, safe_name

HOME_ENV = "TIMBRE_HOME"


@dataclass(frozen=True)
class Studio:
    """Paths of one studio folder."""

    root: Path

    @classmethod
    def locate(cls, home: str | Path | None = None) -> Studio:
        """The studio at ``home``, else ``$TIMBRE_HOME``, else the current directory."""
        if home is not None and not str(home).strip():
            raise StudioError(
                "The studio folder given with --home is empty.",
                "Name a folder (--home ~/timbre), or leave --home out to use the current folder.",
            )
        env = os.environ.get(HOME_ENV)
        if home is None and env is not None and not env.strip():
            raise StudioError(
                f"${HOME_ENV} is set but empty.",
                f"Set it to a folder (export {HOME_ENV}=~/timbre), or unset it to use the current folder.",
            )
        chosen = home if home is not None else (env or os.getcwd())
        return cls(Path(chosen).expanduser().resolve())

    @property
    def recordings(self) -> Path:
        return self.root / "recordings"

    @property
    def voices(self) -> Path:
        return self.root / "voices"

    def session_dir(self, session_id: str) -> Path:
        """Folder of one recording session (the id is sanitised)."""
        return inside(self.recordings, safe_name(session_id, what="session name"))

    def voice_dir(self, name: str) -> Path:
        """Folder of one voice (the name is sanitised)."""
        return inside(self.voices, safe_name(name, what="voice name"))

    def ensure(self) -> Studio:
        """Create ``recordings/`` and ``voices/`` if missing and return self."""
        self.recordings.mkdir(parents=True, exist_ok=True)
        self.voices.mkdir(parents=True, exist_ok=True)
        return self

    def session_ids(self) -> list[str]:
        """Ids of the sessions on disk, oldest first."""
        if not self.recordings.is_dir():
            return []
        return sorted(p.name for p in self.recordings.iterdir() if (p / "session.json").is_file())

    def voice_names(self) -> list[str]:
        """Names of the voices on disk."""
        if not self.voices.is_dir():
            return []
        return sorted(p.name for p in self.voices.iterdir() if (p / "voice.json").is_file())
