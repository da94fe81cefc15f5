#!/usr/bin/env bash
# Regenerates the built-in prompts under sounds/en/ (embedded by src/media/prompts.rs).
#
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox). Each prompt is spoken by
# espeak-ng (voice en-us), its leading and trailing silence trimmed, resampled to 8 kHz,
# normalised to -3 dBFS peak, given 50 ms of lead-in and 100 ms of tail silence, and written
# as a mono 16-bit PCM WAV. Dither is off (-D) so that runs are reproducible.
#
# Usage: sounds/generate.sh            (from anywhere; writes next to this script)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/en"
voice="en-us"
speed=150 # words per minute; a little slower than espeak-ng's 175 for telephone audio

for tool in espeak-ng sox; do
    command -v "$tool" >/dev/null || { echo "generate.sh: $tool not found" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# say NAME TEXT: writes $out/NAME.wav
say() {
    local name="$1" text="$2"
    mkdir -p "$(dirname "$out/$name.wav")"
    espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" "$text"
    sox -D "$tmp/raw.wav" -c 1 -b 16 -e signed-integer "$out/$name.wav" \
        silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse \
        rate -v 8000 norm -3 pad 0.05 0.1
    echo "$name.wav: $(soxi -D "$out/$name.wav") s"
}

say hello-world "Hello world."
say ivr-menu "Press 1 to call 6001. Press 2 to call 6002. Press 3 to call the external number. Press 4 to hear hello world."
say invalid-option "That is not a valid option. Please try again."
say goodbye "Goodbye."
say number-not-available "The number you dialled is not available."
say all-circuits-busy "All circuits are busy now. Please try again later."

digits=(zero one two three four five six seven eight nine)
for d in "${!digits[@]}"; do
    say "digits/$d" "${digits[$d]}"
done
