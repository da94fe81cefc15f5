//! What the PBX writes to an event-socket client (sans-IO), byte for byte as FreeSWITCH's
//! `mod_event_socket.c` writes it: `command/reply` with its `Reply-Text` (and, for
//! `connect`, the channel's data as headers), `api/response` with a body, events as
//! `text/event-plain` / `text/event-json` with the event in the body, `auth/request`,
//! `text/disconnect-notice` and `text/rude-rejection`. Every header block ends with a blank
//! line; a body is announced by `Content-Length`.

use super::event::{EslEvent, EventFormat};
use super::url;

/// The body of every disconnect notice, as FreeSWITCH words it.
pub const DISCONNECT_BODY: &str =
    "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

/// The body of a rude rejection (a client from a network not allowed).
pub const REJECTION_BODY: &str = "Access Denied, go away.\n";

/// `command/reply` with `Reply-Text: text`.
pub fn command_reply(text: &str) -> String {
    format!("Content-Type: command/reply\nReply-Text: {text}\n\n")
}

/// `command/reply` with `Reply-Text: text` and more headers (values URL-encoded), such as
/// bgapi's `Job-UUID`.
pub fn command_reply_with(text: &str, headers: &[(&str, &str)]) -> String {
    let mut out = format!("Content-Type: command/reply\nReply-Text: {text}\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {}\n", url::encode(value)));
    }
    out.push('\n');
    out
}

/// The reply to `connect`: the channel's data event as headers, then `Content-Type`,
/// `Reply-Text`, `Socket-Mode` (`async` or `static`) and `Control` (`full` or
/// `single-channel`), all in one block.
pub fn connect_reply(data: &EslEvent, async_mode: bool, full: bool) -> String {
    let mut out = String::new();
    for (name, value) in data.headers() {
        out.push_str(&format!("{name}: {}\n", url::encode(value)));
    }
    out.push_str("Content-Type: command/reply\nReply-Text: +OK\n");
    out.push_str(match async_mode {
        true => "Socket-Mode: async\n",
        false => "Socket-Mode: static\n",
    });
    out.push_str(match full {
        true => "Control: full\n",
        false => "Control: single-channel\n",
    });
    out.push('\n');
    out
}

/// `api/response` carrying `body`.
pub fn api_response(body: &str) -> String {
    format!(
        "Content-Type: api/response\nContent-Length: {}\n\n{body}",
        body.len()
    )
}

/// An event in `format`.
pub fn event(event: &EslEvent, format: EventFormat) -> String {
    let body = match format {
        EventFormat::Plain => event.render_plain(),
        EventFormat::Json => event.render_json(),
    };
    format!(
        "Content-Length: {}\nContent-Type: text/event-{}\n\n{body}",
        body.len(),
        format.as_str()
    )
}

/// The greeting an inbound client gets.
pub fn auth_request() -> String {
    "Content-Type: auth/request\n\n".to_owned()
}

/// The notice sent when the controlled channel hung up or the session ends; `linger` names
/// the seconds the socket stays open for the remaining events (`None`: it closes now).
pub fn disconnect_notice(uuid: &str, channel_name: &str, linger: Option<u64>) -> String {
    let head = match linger {
        Some(seconds) => format!(
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\n\
             Content-Disposition: linger\nChannel-Name: {channel_name}\nLinger-Time: {seconds}\n"
        ),
        None => format!(
            "Content-Type: text/disconnect-notice\nControlled-Session-UUID: {uuid}\n\
             Content-Disposition: disconnect\n"
        ),
    };
    format!(
        "{head}Content-Length: {}\n\n{DISCONNECT_BODY}",
        DISCONNECT_BODY.len()
    )
}

/// The notice an inbound client whose password was wrong gets before the socket closes.
pub fn bye_notice() -> String {
    format!(
        "Content-Type: text/disconnect-notice\nContent-Length: {}\n\n{DISCONNECT_BODY}",
        DISCONNECT_BODY.len()
    )
}

/// What a client from a network not allowed gets before the socket closes.
pub fn rude_rejection() -> String {
    format!(
        "Content-Type: text/rude-rejection\nContent-Length: {}\n\n{REJECTION_BODY}",
        REJECTION_BODY.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_framed_as_freeswitch_frames_them() {
        assert_eq!(
            command_reply("+OK will linger"),
            "Content-Type: command/reply\nReply-Text: +OK will linger\n\n"
        );
        assert_eq!(
            api_response("+OK\n"),
            "Content-Type: api/response\nContent-Length: 4\n\n+OK\n"
        );
        assert_eq!(
            command_reply_with("+OK Job-UUID: a-b", &[("Job-UUID", "a-b")]),
            "Content-Type: command/reply\nReply-Text: +OK Job-UUID: a-b\nJob-UUID: a-b\n\n"
        );
    }

    #[test]
    fn an_event_frame_counts_its_body() {
        let mut e = EslEvent::new("DTMF");
        e.push("DTMF-Digit", "5");
        let framed = event(&e, EventFormat::Plain);
        let (head, body) = framed.split_once("\n\n").unwrap();
        assert_eq!(
            head,
            format!(
                "Content-Length: {}\nContent-Type: text/event-plain",
                body.len()
            )
        );
        assert!(body.starts_with("Event-Name: DTMF\n"), "{body}");
        assert!(body.ends_with("DTMF-Digit: 5\n\n"), "{body}");
    }

    #[test]
    fn the_connect_reply_carries_the_channel_data_mode_and_control() {
        let mut data = EslEvent::new("CHANNEL_DATA");
        data.push("Channel-Name", "PJSIP/6001-00000001");
        let reply = connect_reply(&data, true, true);
        assert!(reply.starts_with("Event-Name: CHANNEL_DATA\nChannel-Name: PJSIP/6001-00000001\n"));
        assert!(reply.ends_with(
            "Content-Type: command/reply\nReply-Text: +OK\nSocket-Mode: async\nControl: full\n\n"
        ));
    }

    #[test]
    fn a_disconnect_notice_says_whether_the_socket_lingers() {
        let plain = disconnect_notice("1.1", "PJSIP/x", None);
        assert!(plain.contains("Content-Disposition: disconnect\n"));
        assert!(plain.ends_with(&format!("Content-Length: 67\n\n{DISCONNECT_BODY}")));
        let linger = disconnect_notice("1.1", "PJSIP/x", Some(5));
        assert!(
            linger.contains("Content-Disposition: linger\nChannel-Name: PJSIP/x\nLinger-Time: 5\n")
        );
    }
}
