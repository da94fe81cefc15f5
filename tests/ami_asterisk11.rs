//! AMI's `asterisk11` dialect on the raw wire, read by a small client of our own as a program
//! written for Asterisk 11 reads it: the `Command` action is answered `Response: Follows`
//! with the raw output ended by `--END COMMAND--`, and a call from 6001 (SIPp) bridged to
//! 6002 (a SIPp callee) gives `Event: Bridge` with `Bridgestate: Link`, then `Unlink`, with
//! both channels, uniqueids and caller ids; the caller's `NewConnectedLine` names 6002 (an
//! event both dialects send).

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::callee::{dial_6002, register_6002};
use common::{free_tcp_port, Pbx, PbxOptions, RtpPeer};

/// A pbx dialling 6002, its AMI on `port` speaking `asterisk11`; qualify pings are off (see
/// `common::callee`).
fn pbx(port: u16) -> Pbx {
    let dir = tempfile::tempdir().unwrap();
    let dialplan = dir.path().join("dialplan.toml");
    std::fs::write(
        &dialplan,
        "[context.internal]\n\"6002\" = [\"Dial(endpoint/6002, 20)\", \"Hangup()\"]\n",
    )
    .unwrap();
    let defaults = PbxOptions::default();
    let registrar = defaults
        .registrar
        .replace("qualify_interval_secs = 30", "qualify_interval_secs = 0");
    Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: format!(
                "[dialplan]\nfile = \"{}\"\n\n[ami]\nenabled = true\nbind = \"127.0.0.1:{port}\"\n\
                 dialect = \"asterisk11\"\n\n[[ami.user]]\nusername = \"admin\"\nsecret = \"s3cret\"\n\
                 read = [\"all\"]\nwrite = [\"all\"]\n",
                dialplan.display()
            ),
            registrar,
            ..defaults
        },
    )
}

/// A raw AMI connection and what it has read and not consumed yet.
struct Ami {
    stream: TcpStream,
    buffered: String,
}

impl Ami {
    /// Connects and logs in as `admin`.
    fn login(port: u16) -> Ami {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to AMI");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut ami = Ami {
            stream,
            buffered: String::new(),
        };
        ami.send("Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n");
        let login = ami.until("the Login answer", |text| text.contains("Response: "));
        assert!(login.contains("Response: Success"), "{login}");
        ami
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).unwrap();
    }

    /// Reads until `done` holds for what arrived (10 s at most); returns all of it, consumed.
    fn until(&mut self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut chunk = [0u8; 4096];
        while !done(&self.buffered) {
            assert!(
                Instant::now() < deadline,
                "no {what} in:\n{}",
                self.buffered
            );
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("AMI closed before {what}:\n{}", self.buffered),
                Ok(n) => self
                    .buffered
                    .push_str(&String::from_utf8_lossy(&chunk[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("AMI read: {e}"),
            }
        }
        std::mem::take(&mut self.buffered)
    }
}

/// The `Key: Value` messages of `text` (blank-line separated) whose `Event` is `event`.
fn events<'a>(text: &'a str, event: &str) -> Vec<HashMap<&'a str, &'a str>> {
    text.split("\r\n\r\n")
        .map(|message| {
            message
                .lines()
                .filter_map(|line| line.split_once(": "))
                .collect::<HashMap<_, _>>()
        })
        .filter(|headers| headers.get("Event") == Some(&event))
        .collect()
}

#[test]
fn command_follows_and_a_bridged_call_links_and_unlinks() {
    let port = free_tcp_port();
    let pbx = pbx(port);
    let mut ami = Ami::login(port);

    ami.send("Action: Command\r\nCommand: core show version\r\nActionID: v1\r\n\r\n");
    let reply = ami.until("the Command answer", |text| {
        text.contains("--END COMMAND--\r\n\r\n")
    });
    let reply = &reply[reply.find("Response: Follows").expect(&reply)..];
    let (headers, output) = reply.split_once("Privilege: Command\r\n").expect(reply);
    assert!(headers.contains("ActionID: v1\r\n"), "{reply}");
    let output = output.strip_suffix("--END COMMAND--\r\n\r\n").expect(reply);
    assert!(
        output.starts_with("Asterisk pbx-") && output.ends_with('\n'),
        "{reply}"
    );

    let callee_port = register_6002(&pbx);
    let (caller_media, callee_media) = (RtpPeer::start(), RtpPeer::start());
    let callee_rtp = callee_media.port.to_string();
    let callee_args = ["-m", "1", "-key", "rtp_port", callee_rtp.as_str()];
    let caller_args = ["-m", "1", "-d", "1000"];
    let (callee, caller) = dial_6002(
        &pbx,
        callee_port,
        ("sipp/uas_answer.xml", &callee_args),
        ("sipp/uac_bye.xml", caller_media.port, &caller_args),
    );
    caller.assert_succeeded(1, &pbx);
    callee.assert_succeeded(1, &pbx);

    let seen = ami.until("the Unlink", |text| text.contains("Bridgestate: Unlink"));
    let bridges = events(&seen, "Bridge");
    let states: Vec<&str> = bridges.iter().map(|e| e["Bridgestate"]).collect();
    assert_eq!(states, ["Link", "Unlink"], "{seen}");
    for event in &bridges {
        assert!(event["Channel1"].starts_with("PJSIP/6001-"), "{event:?}");
        assert!(event["Channel2"].starts_with("PJSIP/6002-"), "{event:?}");
        assert_eq!(event["CallerID1"], "6001", "{event:?}");
        assert_eq!(event["Privilege"], "call,all", "{event:?}");
        assert_ne!(event["Uniqueid1"], event["Uniqueid2"], "{event:?}");
    }
    let connected = events(&seen, "NewConnectedLine");
    assert!(
        connected
            .iter()
            .any(|e| e["Channel"].starts_with("PJSIP/6001-") && e["ConnectedLineNum"] == "6002"),
        "the caller's connected line is the callee once it answers: {seen}"
    );
    let dial = events(&seen, "Dial");
    assert!(
        dial.iter().any(|e| e.get("SubEvent") == Some(&"Begin")),
        "the dialect's Dial events too: {seen}"
    );
}
