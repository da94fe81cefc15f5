//! Header values on the event socket are URL-encoded the way FreeSWITCH's
//! `switch_url_encode` does it (`switch_utils.c`): a byte below space or above `~`, or one of
//! `` \r\n "#%&+:;<=>?@[\]^`{|} `` becomes `%XX` (upper-case hex); everything else, `/`, `'`,
//! `,`, `!` and `*` included, stays as it is. Clients (greenswitch, modesl) decode the whole
//! event with a standard URL decoder, so what they read back is the original value.

use std::fmt::Write;

/// The printable bytes FreeSWITCH encodes (`urlunsafe`).
const UNSAFE: &[u8] = b"\r\n \"#%&+:;<=>?@[\\]^`{|}";

/// `text` as FreeSWITCH encodes a header value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if !(b' '..=b'~').contains(&b) || UNSAFE.contains(&b) {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Decodes `%XX` escapes (and nothing else: `+` stays `+`); a `%` not followed by two hex
/// digits is kept, and bytes that do not form UTF-8 are replaced.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_freeswitch_does() {
        assert_eq!(encode("6001"), "6001");
        assert_eq!(
            encode("sofia/internal/6001@127.0.0.1:5060"),
            "sofia/internal/6001%40127.0.0.1%3A5060"
        );
        assert_eq!(encode("Hello, world!"), "Hello,%20world!");
        assert_eq!(encode("say:'a+b'"), "say%3A'a%2Bb'");
        assert_eq!(encode("line\nnext"), "line%0Anext");
        assert_eq!(encode("café"), "caf%C3%A9");
    }

    #[test]
    fn decode_inverts_encode_and_keeps_stray_percents() {
        for text in ["a b:c@d", "100% sure", "é+ü\r\n", ""] {
            assert_eq!(decode(&encode(text)), text);
        }
        assert_eq!(decode("50%"), "50%");
        assert_eq!(decode("%zz+"), "%zz+");
    }
}
