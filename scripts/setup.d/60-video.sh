#!/usr/bin/env bash
# Installs what the Kinesis Video Streams tests drive: ffmpeg/ffprobe (H.264
# + AAC test media, reading GetMedia/GetClip/HLS output), GStreamer
# (matroskamux streamable=true: unknown-size clusters as producers send
# them; x264enc is in plugins-ugly, voaacenc in plugins-bad) and Chromium
# (the player page test). Idempotent: apt runs only when a tool is missing.
set -euo pipefail
missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v gst-launch-1.0 >/dev/null || missing+=(gstreamer1.0-tools)
gst-inspect-1.0 x264enc >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-ugly)
gst-inspect-1.0 matroskamux >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-good)
gst-inspect-1.0 voaacenc >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-bad)
gst-inspect-1.0 videotestsrc >/dev/null 2>&1 || missing+=(gstreamer1.0-plugins-base)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
