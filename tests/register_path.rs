//! Registrations relayed by a trusted proxy with Path (RFC 3327), the deployment style in
//! which Kamailio forwards REGISTERs to a node: the node takes them without a challenge (the
//! proxy authenticated the phone), echoes the Path with `Supported: path` to a UA that
//! supports it, and sends its requests to that contact along the stored Path: the qualify
//! OPTIONS and the INVITE of `pbx ctl originate endpoint/6001` reach the proxy with the Path
//! as their Route.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{free_port, Pbx, PbxOptions};

/// A REGISTER for `user` as a proxy on `proxy` relays it, with `extra` headers.
fn register(proxy: &UdpSocket, pbx: &Pbx, user: &str, cseq: u32, extra: &str) -> String {
    let local = proxy.local_addr().unwrap();
    let request = format!(
        "REGISTER sip:{sip} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bKpath{cseq}\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKphone{cseq};received=127.0.0.1\r\n\
         From: <sip:{user}@{sip}>;tag=reg{user}\r\n\
         To: <sip:{user}@{sip}>\r\n\
         Call-ID: path-{user}@127.0.0.1\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{user}@127.0.0.1:5999>\r\n\
         Expires: 600\r\n\
         Max-Forwards: 69\r\n\
         {extra}Content-Length: 0\r\n\r\n",
        sip = pbx.sip
    );
    proxy.send_to(request.as_bytes(), pbx.sip).unwrap();
    receive(proxy, |m| {
        m.starts_with("SIP/2.0 ") && m.contains(&format!("{cseq} REGISTER"))
    })
}

/// The first datagram on `socket` within 5 s for which `wanted` holds.
fn receive(socket: &UdpSocket, wanted: impl Fn(&str) -> bool) -> String {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 8192];
    while std::time::Instant::now() < deadline {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            if wanted(&message) {
                return message;
            }
        }
    }
    panic!("nothing wanted arrived on {}", socket.local_addr().unwrap());
}

fn header<'a>(message: &'a str, name: &str) -> Vec<&'a str> {
    message
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

#[test]
fn a_path_registration_from_a_trusted_proxy_routes_requests_through_the_path() {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: "[[trusted_proxy]]\nnetworks = [\"127.0.0.20/32\"]\n".into(),
        registrar: "min_expires = 60\nmax_expires = 3600\ndefault_expires = 600\nqualify_interval_secs = 1\n".into(),
        ..PbxOptions::default()
    });
    let proxy = UdpSocket::bind(("127.0.0.20", free_port())).unwrap();
    let path = format!("<sip:{};lr>", proxy.local_addr().unwrap());

    let unknown = register(&proxy, &pbx, "7777", 1, &format!("Path: {path}\r\n"));
    assert!(unknown.starts_with("SIP/2.0 404"), "{unknown}");

    let plain = register(&proxy, &pbx, "6001", 2, &format!("Path: {path}\r\n"));
    assert!(plain.starts_with("SIP/2.0 200"), "{plain}");
    assert!(
        header(&plain, "Path").is_empty(),
        "Path echoed to a UA without it: {plain}"
    );

    let ok = register(
        &proxy,
        &pbx,
        "6001",
        3,
        &format!("Path: {path}\r\nSupported: path\r\n"),
    );
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert_eq!(header(&ok, "Path"), [path.as_str()], "{ok}");
    assert!(header(&ok, "Supported").contains(&"path"), "{ok}");
    let ping = receive(&proxy, |m| m.starts_with("OPTIONS "));
    assert!(
        ping.starts_with("OPTIONS sip:6001@127.0.0.1:5999 SIP/2.0"),
        "{ping}"
    );
    assert_eq!(header(&ping, "Route"), [path.as_str()], "{ping}");

    let originate = std::thread::spawn({
        let api = pbx.api.clone();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_pbx"))
                .args([
                    "ctl",
                    "--api",
                    &api,
                    "originate",
                    "endpoint/6001",
                    "--exten",
                    "8000",
                ])
                .env_remove("PBX_API_TOKEN")
                .output()
                .unwrap()
        }
    });
    let invite = receive(&proxy, |m| m.starts_with("INVITE "));
    assert!(
        invite.starts_with("INVITE sip:6001@127.0.0.1:5999 SIP/2.0"),
        "{invite}"
    );
    assert_eq!(header(&invite, "Route"), [path.as_str()], "{invite}");
    let busy = format!(
        "SIP/2.0 486 Busy Here\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=busy\r\nCall-ID: {}\r\nCSeq: {}\r\nContent-Length: 0\r\n\r\n",
        header(&invite, "Via")[0],
        header(&invite, "From")[0],
        header(&invite, "To")[0],
        header(&invite, "Call-ID")[0],
        header(&invite, "CSeq")[0],
    );
    proxy.send_to(busy.as_bytes(), pbx.sip).unwrap();
    let ack = receive(&proxy, |m| m.starts_with("ACK "));
    assert_eq!(header(&ack, "Route"), [path.as_str()], "{ack}");
    assert!(originate.join().unwrap().status.success());
}
