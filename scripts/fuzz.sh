#!/bin/sh
# Runs every fuzz target under fuzz/ for SECONDS each (default 60; CI's smoke run passes a
# few), with cargo-fuzz on the nightly toolchain. Seed corpora come from the test fixtures:
# the SIP corpus of tests/fixtures/sip (metadata stripped, CRLF line ends), the shipped config
# and dialplan, the SDP bodies of the SIPp scenarios. Findings land in fuzz/artifacts/TARGET/;
# keep each crash input as a regression fixture with its fix.
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
corpus=fuzz/corpus
mkdir -p "$corpus/sip_message" "$corpus/digest_header" "$corpus/sdp_offer" "$corpus/rtp_packet" \
    "$corpus/dialplan" "$corpus/config"
for file in tests/fixtures/sip/*.sip; do
    grep -av '^; ' "$file" | sed 's/$/\r/' >"$corpus/sip_message/$(basename "$file")"
done
cp config/pbx.toml "$corpus/config/"
cp config/dialplan.toml "$corpus/dialplan/"
printf 'Digest username="6001", realm="pbx", nonce="abc", uri="sip:pbx", response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, nc=00000001, cnonce="x"' \
    >"$corpus/digest_header/credentials"
printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n' \
    >"$corpus/sdp_offer/offer"
printf '\200\000\000\001\000\000\000\240\000\000\000\001\377\377\377\377' >"$corpus/rtp_packet/pcmu"
for target in sip_message digest_header sdp_offer rtp_packet dialplan config; do
    echo "== $target for ${seconds}s"
    (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1)
done
