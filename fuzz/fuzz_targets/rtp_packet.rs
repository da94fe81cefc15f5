//! RTP packet parsing (RFC 3550 §5.1) on arbitrary datagrams.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pbx::media::rtp::RtpPacket::parse(data);
});
