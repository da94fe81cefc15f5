//! The dialplan loader (TOML, patterns, apps) on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pbx::dialplan::Dialplan::parse(std::path::Path::new("fuzz.toml"), text);
    }
});
