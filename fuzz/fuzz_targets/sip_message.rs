//! The SIP parser and validation on arbitrary datagrams: nothing panics, every typed view of
//! a parsed message can be read, and parse -> serialize -> parse keeps the message.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use pbx::sip::header::NameAddr;
use pbx::sip::message::{HeaderName, SipMessage};
use pbx::sip::validate::{validate, PBX};

fuzz_target!(|data: &[u8]| {
    let Ok(message) = SipMessage::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    let _ = validate(&message, &PBX);
    let _ = (message.top_via(), message.cseq(), message.expires());
    let _ = (message.from_header(), message.to_header());
    for contact in message.header_values(HeaderName::Contact) {
        if let Ok(contact) = NameAddr::parse(contact) {
            let _ = (contact.sip_uri(), contact.tag());
        }
    }
    let again = SipMessage::parse(message.to_bytes()).expect("a serialized message parses");
    assert_eq!(message.method_token(), again.method_token());
    assert_eq!(message.request_uri(), again.request_uri());
    assert_eq!(message.status(), again.status());
    assert!(message.header_fields().eq(again.header_fields()));
    assert_eq!(message.body(), again.body());
});
