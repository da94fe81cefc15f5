//! SDP offer parsing (RFC 4566, RFC 3264) on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pbx::sdp::negotiate::parse_offer(text);
    }
});
