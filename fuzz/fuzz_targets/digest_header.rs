//! The digest `Authorization` and `WWW-Authenticate` parsers (RFC 7616) on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pbx::sip::auth::{DigestChallenge, DigestCredentials};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = DigestCredentials::parse(text);
        let _ = DigestChallenge::parse(text);
    }
});
