#!/usr/bin/env bash
# Installs what the Kinesis Video Streams tests drive: ffmpeg/ffprobe (H.264
# + AAC test media, reading GetMedia/GetClip/HLS output), GStreamer
# (matroskamux streamable=true: unknown-size clusters as producers send
# them; x264enc is in plugins-ugly, voaacenc in plugins-bad) and Chromium
# (the player page test), and hls.js from npm. Idempotent: apt and npm run
# only when something is missing.
set -euo pipefail
missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v gst-launch-1.0 >/dev/null || missing+=(gstreamer1.0-tools)
gst-inspect-1.0 x264enc >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-ugly)
gst-inspect-1.0 matroskamux >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-good)
gst-inspect-1.0 voaacenc >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-bad)
gst-inspect-1.0 videotestsrc >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-base)
command -v chromium >/dev/null || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
# hls.js for the player page (/video/), from the npm registry; Eddy serves
# it from the global npm root (internal/video/player.go)
if [ ! -f "$(npm root -g)/hls.js/dist/hls.min.js" ]; then
  npm install -g hls.js@1.7.4
fi
