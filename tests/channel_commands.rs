//! Commands to a live channel through `pbx ctl` (the admin API): while a SIPp caller waits in
//! the IVR menu, setvar/getvar read and write its variables (and `ChannelVarset` says so),
//! dtmf sends it RFC 4733 key presses, and continue moves it to 8000, where it hears hello
//! world and the PBX hangs up. Unknown channels and positions are refused.

mod common;

use std::process::Output;
use std::time::Duration;

use common::events::EventStream;
use common::{call_as_6001, wait_until, Pbx, RtpPeer};

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_waiting_channel_takes_variables_key_presses_and_a_new_dialplan_position() {
    let pbx = Pbx::start();
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8001", media.port, &["-m", "1"]));
        let listed = wait_until(Duration::from_secs(10), || {
            pbx.get("/api/channels")
                .unwrap()
                .as_array()
                .is_some_and(|c| c.len() == 1)
        });
        assert!(listed, "{}", pbx.log());
        let channel = pbx.get("/api/channels").unwrap()[0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            media.wait_packets(25, Duration::from_secs(5)),
            "no menu audio"
        );

        assert_eq!(
            stdout(&pbx.ctl(&["getvar", &channel, "CALLERID(num)"])),
            "CALLERID(num)=6001\n"
        );
        assert_eq!(
            stdout(&pbx.ctl(&["getvar", &channel, "FOO"])),
            "FOO is not set\n"
        );
        stdout(&pbx.ctl(&["setvar", &channel, "FOO", "bar baz"]));
        assert_eq!(
            stdout(&pbx.ctl(&["getvar", &channel, "FOO"])),
            "FOO=bar baz\n"
        );
        events.expect("ChannelVarset FOO", |e| {
            e["type"] == "ChannelVarset" && e["variable"] == "FOO" && e["value"] == "bar baz"
        });

        stdout(&pbx.ctl(&["dtmf", &channel, "5#"]));
        let pressed = wait_until(Duration::from_secs(5), || {
            let keys: Vec<u8> = media
                .packets()
                .iter()
                .filter(|p| p.payload_type == 101 && p.marker)
                .map(|p| p.payload[0])
                .collect();
            keys == [5, 11]
        });
        assert!(pressed, "no RFC 4733 events for 5 and #");

        let refused = pbx.ctl(&["continue", &channel, "internal", "4711"]);
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("409"),
            "{refused:?}"
        );
        stdout(&pbx.ctl(&["continue", &channel, "internal", "8000"]));
        caller.join().unwrap()
    });
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "the caller did not end with the PBX's BYE\n{}",
        pbx.log()
    );
    assert!(
        media.heard_prompt("hello-world"),
        "the caller did not hear 8000\n{}",
        pbx.log()
    );
    events.expect("the channel at 8000", |e| {
        e["type"] == "ChannelDialplan"
            && e["channel"]["dialplan"]["exten"] == "8000"
            && e["channel"]["dialplan"]["app_name"] == "Playback"
    });
    let missing = pbx.ctl(&["getvar", "PJSIP/6001-00000009", "FOO"]);
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("404"),
        "{missing:?}"
    );
    common::assert_no_leftovers(&pbx);
}
