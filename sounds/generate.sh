#!/usr/bin/env bash
# Regenerates the built-in prompts under sounds/en/ (embedded by src/media/prompts.rs).
#
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox). Each prompt is spoken by
# espeak-ng (voice en-us), its leading and trailing silence trimmed, resampled to 8 kHz,
# normalised to -3 dBFS peak, given 50 ms of lead-in and 100 ms of tail silence, and written
# as a mono 16-bit PCM WAV. Dither is off (-D) so that runs are reproducible.
#
# The music on hold (moh/default.wav) is no recording: an original sixteen-note tune over
# four bass notes, synthesised from sine tones by sox, 8 s long so it loops seamlessly, at
# -10 dBFS peak (about the level of the spoken prompts). Its notes avoid 440 Hz and 1000 Hz,
# the tones the tests send, so a test can tell the music from the other party.
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

# The words numbers are said in (Asterisk's English file names, as `number:` media, AGI's
# SAY NUMBER and the dialplan's digit read-outs use them).
teens=(ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen)
for i in "${!teens[@]}"; do
    say "digits/$((10 + i))" "${teens[$i]}"
done
tens=(twenty thirty forty fifty sixty seventy eighty ninety)
for i in "${!tens[@]}"; do
    say "digits/$((20 + 10 * i))" "${tens[$i]}"
done
for word in hundred thousand million billion minus; do
    say "digits/$word" "$word"
done

# Letters for SAY ALPHA and `characters:`, and the ICAO spelling alphabet for SAY PHONETIC
# (Asterisk's names: letters/a, phonetic/a_p).
phonetic=(alfa bravo charlie delta echo foxtrot golf hotel india juliett kilo lima mike
    november oscar papa quebec romeo sierra tango uniform victor whiskey x-ray yankee zulu)
i=0
for letter in a b c d e f g h i j k l m n o p q r s t u v w x y z; do
    say "letters/$letter" "$letter"
    say "phonetic/${letter}_p" "${phonetic[$i]}"
    i=$((i + 1))
done
say letters/asterisk "star"
say letters/pound "pound"
say letters/dash "dash"
say letters/dot "dot"
say letters/at "at"

# note NAME SECONDS VOLUME: a sine note with a soft attack and release into $tmp/NAME.wav
note() {
    sox -D -n -r 8000 -c 1 -b 16 "$tmp/$1.wav" synth "$2" sine "${1%%_*}" \
        fade q 0.02 "$2" "$(echo "$2 / 2" | bc -l)" vol "$3"
}

melody=(C4 E4 G4 C5 D5 C5 G4 E4 D4 G4 D5 G5 E5 D5 C5 G4)
bass=(C3 G2 F2 G2)
parts=()
for i in "${!melody[@]}"; do
    note "${melody[$i]}_$i" 0.5 0.5
    parts+=("$tmp/${melody[$i]}_$i.wav")
done
sox -D "${parts[@]}" "$tmp/melody.wav"
parts=()
for i in "${!bass[@]}"; do
    note "${bass[$i]}_b$i" 2 0.3
    parts+=("$tmp/${bass[$i]}_b$i.wav")
done
sox -D "${parts[@]}" "$tmp/bass.wav"
mkdir -p "$here/moh"
sox -D -m "$tmp/melody.wav" "$tmp/bass.wav" -c 1 -b 16 -e signed-integer "$here/moh/default.wav" norm -10
echo "moh/default.wav: $(soxi -D "$here/moh/default.wav") s"
