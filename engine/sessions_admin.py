"""Renaming and deleting recording sessions (Home and ``timbre sessions``).

A session's name is its folder under ``recordings/``; names go through :func:`engine.fsutil.safe_name`,
so neither operation can reach outside that folder. Both refuse a session that is recording a take.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from engine.errors import StudioError
from engine.fsutil import atomic_write_json, fsync_dir, read_json, safe_name
from engine.session import SESSION_FILE, session_folder_recording
from engine.studio import Studio

log = logging.getLogger(__name__)


def session_folder(studio: Studio, session_id: str) -> Path:
    """The folder of an existing session (raises StudioError when there is none by that name)."""
    folder = studio.session_dir(session_id)
    if folder.is_symlink() or not (folder / SESSION_FILE).is_file() or folder.parent != studio.recordings:
        names = ", ".join(studio.session_ids()) or "none yet"
        raise StudioError(
            f"There is no session {session_id!r} in {studio.recordings}.",
            f"Sessions: {names}. ('timbre sessions list' shows them.)",
        )
    return folder


def _refuse_if_recording(folder: Path, doing: str) -> None:
    if session_folder_recording(folder):
        raise StudioError(
            f"Session {folder.name} is recording a take right now, so it cannot be {doing}.",
            "Stop the take (or close the Timbre that records it), then try again.",
        )


def rename_session(studio: Studio, session_id: str, new_name: str) -> str:
    """Rename a session folder to ``safe_name(new_name)`` and return the new id (never overwrites)."""
    folder = session_folder(studio, session_id)
    new_id = safe_name(new_name, what="session name")
    if new_id == folder.name:
        raise StudioError(f"The session is already called {new_id!r}.", "Choose a different name.")
    target = studio.recordings / new_id
    taken = {sid.casefold() for sid in studio.session_ids() if sid != folder.name}
    if target.exists() or target.is_symlink() or new_id.casefold() in taken:  # also case-blind disks
        raise StudioError(
            f"A session named {new_id!r} already exists in {studio.recordings}.",
            "Choose another name, or rename or delete that session first.",
        )
    _refuse_if_recording(folder, "renamed")
    os.rename(folder, target)  # same folder, so atomic; the target was checked to be free just above
    fsync_dir(studio.recordings)
    state = read_json(target / SESSION_FILE)
    if isinstance(state, dict) and state.get("id") != new_id:
        state["id"] = new_id
        atomic_write_json(target / SESSION_FILE, state)
    log.info("session %s renamed to %s", folder.name, new_id)
    return new_id


def delete_session(studio: Studio, session_id: str) -> Path:
    """Delete one session folder (its takes, clean/ and session.json) and return the path removed."""
    folder = session_folder(studio, session_id)
    _refuse_if_recording(folder, "deleted")
    shutil.rmtree(folder)
    fsync_dir(studio.recordings)
    log.info("session %s deleted (%s)", folder.name, folder)
    return folder
