#!/usr/bin/env bash
# Make sure the PortAudio library (Debian: libportaudio2) is present for recording and playback.
# As root it installs it; otherwise it prints the exact command. Never fatal: the app starts
# without it, with recording disabled and a message saying what to install.
if ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so\.2'; then
  exit 0
fi
if [ "$(uname -s)" != "Linux" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "timbre: installing PortAudio (libportaudio2) for microphone access..."
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libportaudio2) >/dev/null; then
    echo "timbre: PortAudio installed."
  else
    echo "timbre: could not install libportaudio2; recording will be disabled." >&2
  fi
else
  echo "timbre: PortAudio is missing, so recording will be disabled. To enable it, run:" >&2
  echo "    sudo apt-get install libportaudio2" >&2
fi
exit 0
