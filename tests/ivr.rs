//! The 8001 IVR of the demo dialplan, driven by a SIPp caller whose media socket sends the
//! RFC 4733 key presses recorded in SIPp's own `dtmf_2833_N.pcap` files: 4 plays hello-world
//! then the menu again, an invalid key plays the invalid-option prompt, silence ends with the
//! goodbye prompt and a BYE from the PBX.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{
    find_prompt, fixture, prompt_ulaw, sipp, Pbx, RtpPeer, RtpReceived, SippRun, PASSWORD,
};

fn dtmf_pcap(digit: char) -> PathBuf {
    PathBuf::from(format!("/usr/share/sip-tester/dtmf_2833_{digit}.pcap"))
}

/// Calls 8001; once the menu has played for a second, presses `digit` (if any). Returns the
/// SIPp run and every packet received.
fn ivr_call(digit: Option<char>) -> (SippRun, Vec<RtpReceived>, Pbx) {
    let pbx = Pbx::start();
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let csv = fixture("sipp/caller_6001.csv");
    let target = pbx.sip;
    let caller = std::thread::spawn(move || {
        let args = [
            "-s",
            "8001",
            "-au",
            "6001",
            "-ap",
            PASSWORD,
            "-m",
            "1",
            "-inf",
            csv.to_str().unwrap(),
            "-key",
            "rtp_port",
            &port,
        ];
        sipp(&fixture("sipp/uac_call.xml"), target, &args)
    });
    assert!(
        media.wait_packets(50, Duration::from_secs(10)),
        "no menu audio\n{}",
        pbx.log()
    );
    if let Some(digit) = digit {
        let pcap = dtmf_pcap(digit);
        assert!(
            pcap.exists(),
            "{} missing: install sip-tester",
            pcap.display()
        );
        media.send_pcap(&pcap, 101);
    }
    let run = caller.join().unwrap();
    let packets = media.packets();
    (run, packets, pbx)
}

fn audio(packets: &[RtpReceived]) -> Vec<u8> {
    packets
        .iter()
        .filter(|p| p.payload_type == 0)
        .flat_map(|p| p.payload.iter().copied())
        .collect()
}

#[test]
fn key_4_plays_hello_world_then_the_menu_again() {
    let (run, packets, pbx) = ivr_call(Some('4'));
    run.assert_succeeded(1, &pbx);
    let audio = audio(&packets);
    let hello = find_prompt(&audio, &prompt_ulaw("hello-world")).expect("hello-world not heard");
    let menu = prompt_ulaw("ivr-menu");
    let full_menu = find_prompt(&audio, &menu).expect("the full menu was never heard");
    assert!(
        full_menu > hello,
        "the menu must play again after hello-world"
    );
    assert!(
        find_prompt(&audio, &prompt_ulaw("goodbye")).is_some(),
        "goodbye after the timeout"
    );
    // The first menu was interrupted by the key press: less than a full menu before hello.
    assert!(hello < menu.len(), "menu was not interrupted by the digit");
}

#[test]
fn invalid_key_plays_invalid_option() {
    let (run, packets, pbx) = ivr_call(Some('9'));
    run.assert_succeeded(1, &pbx);
    let audio = audio(&packets);
    assert!(
        find_prompt(&audio, &prompt_ulaw("invalid-option")).is_some(),
        "invalid-option not heard"
    );
    assert!(find_prompt(&audio, &prompt_ulaw("hello-world")).is_none());
}

#[test]
fn silence_gets_goodbye_and_a_bye() {
    let (run, packets, pbx) = ivr_call(None);
    run.assert_succeeded(1, &pbx);
    let audio = audio(&packets);
    let menu = find_prompt(&audio, &prompt_ulaw("ivr-menu")).expect("menu not heard");
    let goodbye = find_prompt(&audio, &prompt_ulaw("goodbye")).expect("goodbye not heard");
    assert!(goodbye > menu);
    // WaitExten(5): about five seconds without audio between the menu and goodbye.
    let menu_end = packets
        .iter()
        .filter(|p| p.payload_type == 0)
        .zip(packets.iter().filter(|p| p.payload_type == 0).skip(1))
        .map(|(a, b)| b.at.duration_since(a.at))
        .max()
        .unwrap();
    assert!(
        menu_end >= Duration::from_secs(4),
        "longest gap {menu_end:?}"
    );
}
