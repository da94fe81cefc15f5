//! AGI, driven by real client libraries, unchanged, with what the caller hears as the oracle:
//! - AsyncAGI: a panoramisk AMI application drives a SIPp call that reached
//!   `AGI(agi:async)`: ANSWER, STREAM FILE hello-world (heard by the caller), WAIT FOR DIGIT
//!   (the caller presses 5: result 53), GET VARIABLE, HANGUP (the caller gets BYE);
//! - FastAGI: panoramisk's FastAGI server gets `agi_network: yes` and the script, streams
//!   hello-world and says 42 (both heard), sets and expands variables, is answered 510 for an
//!   unknown command, and hangs up;
//! - a FastAGI peer whose caller hangs up during WAIT FOR DIGIT gets result -1, then the
//!   `HANGUP` line, then 511 for STREAM FILE while GET VARIABLE still works;
//! - a local program written with pyst2 under `agi_dir` reads the environment and its
//!   argument, plays hello-world, says 123, spells "ab" (SAY PHONETIC: alfa bravo), says 21
//!   (twenty one), puts, reads and deletes an AstDB entry (DATABASE PUT / GET / DEL) and
//!   hangs up;
//! - a program that ignores its session is killed once the caller has hung up (after the
//!   grace the pbx gives dead-channel commands).
//!
//! The AsyncAGI call runs twice: with Asterisk 12+ events, and with the `asterisk11` dialect,
//! where panoramisk's own `send_agi_command` works as it does against Asterisk 11.
//!
//! A missing python3, panoramisk or pyst2 fails the test, never skips it.

mod common;

use std::time::Duration;

use common::python::PythonClient;
use common::{
    call_as_6001, dtmf_pcap, find_prompt, fixture, free_tcp_port, prompt_ulaw, require_program,
    Pbx, PbxOptions, RtpPeer,
};

/// A pbx with AMI on `ami_port`, the AGI fixtures as `agi_dir`, and `dialplan`; it records
/// into `recordings/` in its directory.
fn pbx_with(dialplan: &str, ami_port: u16) -> Pbx {
    pbx_speaking(dialplan, ami_port, "asterisk22")
}

/// [`pbx_with`], its AMI speaking `dialect`.
fn pbx_speaking(dialplan: &str, ami_port: u16, dialect: &str) -> Pbx {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dialplan.toml");
    std::fs::write(&path, dialplan).unwrap();
    let extra = format!(
        "[dialplan]\nfile = \"{}\"\nrecordings_dir = \"{}\"\n\n[agi]\ndir = \"{}\"\n\n\
         [ami]\nenabled = true\nbind = \"127.0.0.1:{ami_port}\"\ndialect = \"{dialect}\"\n\n\
         [[ami.user]]\nusername = \"admin\"\nsecret = \"s3cret\"\nread = [\"all\"]\nwrite = [\"all\"]\n",
        path.display(),
        dir.path().join("recordings").display(),
        fixture("agi").display(),
    );
    Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: extra,
            ..PbxOptions::default()
        },
    )
}

/// Whether `heard` holds prompt `name` byte for byte after position `from`; where it ends.
fn heard_after(heard: &[u8], name: &str, from: usize) -> Option<usize> {
    let prompt = prompt_ulaw(name);
    find_prompt(&heard[from.min(heard.len())..], &prompt).map(|at| from + at + prompt.len())
}

/// Runs Python program `script` (a fixture) with `port` as its argument.
fn client(script: &str, port: u16) -> PythonClient {
    PythonClient::start(script, &[&port.to_string()])
}

#[test]
fn an_asyncagi_application_answers_streams_reads_a_key_and_hangs_up() {
    asyncagi_call("asterisk22");
}

#[test]
fn with_the_asterisk11_dialect_panoramisks_send_agi_command_drives_asyncagi() {
    asyncagi_call("asterisk11");
}

/// A panoramisk AsyncAGI application drives a SIPp call to `AGI(agi:async)`; the AMI
/// speaks `dialect`.
fn asyncagi_call(dialect: &str) {
    let port = free_tcp_port();
    let pbx = pbx_speaking(
        "[context.internal]\n\"8010\" = [\"AGI(agi:async)\", \"Hangup()\"]\n",
        port,
        dialect,
    );
    let mut app = PythonClient::start("agi/async_app.py", &[&port.to_string(), dialect]);
    app.line(&pbx, "READY", |l| l == "READY");
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8010", media.port, &["-m", "1"]));
        app.line(&pbx, "WAITING", |l| l == "WAITING");
        media.send_pcap(&dtmf_pcap("5"), 101);
        let run = caller.join().unwrap();
        assert_eq!(
            (run.successful, run.failed),
            (1, 0),
            "the caller got the BYE\n{}\n{}",
            String::from_utf8_lossy(&run.output.stderr),
            pbx.log()
        );
    });
    let seen = app.result(&pbx);
    let channel = seen["channel"].as_str().unwrap();
    assert!(channel.starts_with("PJSIP/6001-"), "{seen}");
    assert_eq!(seen["end_channel"], channel, "{seen}");
    let env = &seen["env"];
    assert_eq!(env["agi_request"], "async", "{seen}");
    assert_eq!(env["agi_channel"], channel, "{seen}");
    assert_eq!(env["agi_callerid"], "6001", "{seen}");
    assert_eq!(env["agi_extension"], "8010", "{seen}");
    assert_eq!(env["agi_context"], "internal", "{seen}");
    assert_eq!(env["agi_priority"], "1", "{seen}");
    assert_eq!(seen["answer"]["result"]["result"][0], "0", "{seen}");
    let stream = &seen["stream"]["result"];
    assert_eq!(stream["result"][0], "0", "{seen}");
    let endpos: u64 = stream["endpos"][0].as_str().unwrap().parse().unwrap();
    let full = prompt_ulaw("hello-world").len() as u64;
    assert!(
        endpos + 800 >= full && endpos <= full,
        "endpos {endpos} of {full}: {seen}"
    );
    assert_eq!(
        seen["digit"]["result"]["result"][0], "53",
        "the ASCII code of 5: {seen}"
    );
    assert_eq!(
        seen["variable"]["result"]["result"],
        serde_json::json!(["1", "6001"]),
        "{seen}"
    );
    assert_eq!(seen["hangup"]["result"]["result"][0], "1", "{seen}");
    assert!(
        seen["answer"]["command_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("command/") && !id.ends_with('/')),
        "AsyncAGIExec carries the CommandID of the AGI action: {seen}"
    );
    assert!(
        media.heard_prompt("hello-world"),
        "the caller heard hello-world\n{}",
        pbx.log()
    );
}

#[test]
fn panoramisk_fastagi_serves_a_call_sent_with_agi_url() {
    let agi_port = free_tcp_port();
    let dialplan = format!(
        "[context.internal]\n\"8011\" = [\"AGI(agi://127.0.0.1:{agi_port}/hello,one,two words)\", \"Hangup()\"]\n"
    );
    let pbx = pbx_with(&dialplan, free_tcp_port());
    let mut server = client("agi/fastagi_server.py", agi_port);
    server.line(&pbx, "READY", |l| l == "READY");
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8011", media.port, &["-m", "1"]);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        String::from_utf8_lossy(&run.output.stderr),
        pbx.log()
    );
    let seen = server.result(&pbx);
    let headers = &seen["headers"];
    assert_eq!(headers["agi_network"], "yes", "{seen}");
    assert_eq!(headers["agi_network_script"], "hello", "{seen}");
    assert_eq!(
        headers["agi_request"],
        format!("agi://127.0.0.1:{agi_port}/hello"),
        "{seen}"
    );
    assert_eq!(headers["agi_arg_1"], "one", "{seen}");
    assert_eq!(headers["agi_arg_2"], "two words", "{seen}");
    assert_eq!(headers["agi_type"], "PJSIP", "{seen}");
    assert_eq!(seen["answer"]["status_code"], 200, "{seen}");
    assert_eq!(seen["stream"]["result"][0], "0", "{seen}");
    assert_eq!(seen["say"]["result"][0], "0", "{seen}");
    assert_eq!(seen["set"]["result"][0], "1", "{seen}");
    assert_eq!(
        seen["full"]["result"],
        serde_json::json!(["1", "hello there from 6001"]),
        "{seen}"
    );
    assert_eq!(seen["unknown"]["error"], "AGIInvalidCommand", "{seen}");
    assert_eq!(seen["unknown"]["status_code"], 510, "{seen}");
    assert_eq!(seen["hangup"]["result"][0], "1", "{seen}");
    let heard = media.heard_ulaw();
    let after_hello = heard_after(&heard, "hello-world", 0).expect("hello-world heard");
    let after_four = heard_after(&heard, "digits/4", after_hello).expect("4 said after it");
    assert!(
        heard_after(&heard, "digits/2", after_four).is_some(),
        "2 said after 4"
    );
}

#[test]
fn a_fastagi_peer_is_told_of_the_hangup_and_refused_live_commands_after_it() {
    let agi_port = free_tcp_port();
    let dialplan = format!(
        "[context.internal]\n\"8013\" = [\"AGI(agi://127.0.0.1:{agi_port}/dead)\", \"Hangup()\"]\n"
    );
    let pbx = pbx_with(&dialplan, free_tcp_port());
    let mut server = client("agi/fastagi_server.py", agi_port);
    server.line(&pbx, "READY", |l| l == "READY");
    let media = RtpPeer::start();
    let run = call_as_6001(
        &pbx,
        "sipp/uac_bye.xml",
        "8013",
        media.port,
        &["-m", "1", "-d", "1500"],
    );
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        String::from_utf8_lossy(&run.output.stderr),
        pbx.log()
    );
    let seen = server.result(&pbx);
    assert_eq!(seen["answer"]["status_code"], 200, "{seen}");
    assert_eq!(
        seen["wait"]["error"], "AGIAppError",
        "WAIT FOR DIGIT ends with result=-1 at the hangup: {seen}"
    );
    assert_eq!(seen["after_hangup"]["error"], "AGIResultHangup", "{seen}");
    assert_eq!(seen["refused"]["status_code"], 511, "{seen}");
    assert_eq!(
        seen["variable"]["result"],
        serde_json::json!(["1", "6001"]),
        "{seen}"
    );
}

#[test]
fn a_pyst2_program_under_agi_dir_plays_says_digits_and_hangs_up() {
    require_program("python3");
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("seen.json");
    let dialplan = format!(
        "[context.internal]\n\"8012\" = [\"AGI(pyst2_program.py,{})\", \"Hangup()\"]\n",
        report.display()
    );
    let pbx = pbx_with(&dialplan, free_tcp_port());
    let media = RtpPeer::start();
    // The caller speaks (a 440 Hz tone) once the program says it is about to record, so the
    // prompts before are heard on a quiet line.
    let recording = out.path().join("seen.json.recording");
    let run = std::thread::scope(|s| {
        s.spawn(|| {
            if common::wait_until(Duration::from_secs(30), || recording.exists()) {
                let tone = media.stream_tone(common::ToneStream {
                    freq: 440.0,
                    ptime_ms: 20,
                    duration: Duration::from_secs(4),
                    pause: None,
                });
                tone.join().unwrap();
            }
        });
        call_as_6001(&pbx, "sipp/uac_call.xml", "8012", media.port, &["-m", "1"])
    });
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        String::from_utf8_lossy(&run.output.stderr),
        pbx.log()
    );
    let seen: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&report)
            .unwrap_or_else(|e| panic!("the program wrote no report ({e})\n{}", pbx.log())),
    )
    .unwrap();
    let env = &seen["env"];
    assert_eq!(env["agi_request"], "pyst2_program.py", "{seen}");
    assert_eq!(env["agi_arg_1"], report.display().to_string(), "{seen}");
    assert_eq!(env["agi_callerid"], "6001", "{seen}");
    assert_eq!(env["agi_dnid"], "8012", "{seen}");
    assert_eq!(seen["argv"][0], report.display().to_string(), "{seen}");
    assert_eq!(seen["stream"], "", "no key pressed: {seen}");
    assert_eq!(seen["say"], "", "{seen}");
    assert_eq!(
        (&seen["phonetic"], &seen["number"]),
        (&"".into(), &"".into()),
        "{seen}"
    );
    assert_eq!(seen["exten"], "8012", "{seen}");
    assert_eq!(seen["db"], "hello there", "{seen}");
    assert_eq!(seen["db_after_del"], "not found", "{seen}");
    assert_eq!(
        seen["record"], "\u{0}",
        "RECORD FILE ended by its timeout: {seen}"
    );
    let (samples, rate) = common::read_wav(&pbx.dir.path().join("recordings/agi-take.wav"));
    let secs = samples.len() as f64 / f64::from(rate);
    assert!((1.5..=2.3).contains(&secs), "{secs:.2} s recorded");
    let share = common::tone_share(&samples, rate, 440.0, 1_000.0);
    assert!(
        share > 0.8,
        "the caller's tone is {share:.2} of the recording"
    );
    let heard = media.heard_ulaw();
    let mut at = heard_after(&heard, "hello-world", 0).expect("hello-world heard");
    let said = [
        "digits/1",
        "digits/2",
        "digits/3",
        "phonetic/a_p",
        "phonetic/b_p",
        "digits/20",
        "digits/1",
    ];
    for prompt in said {
        at = heard_after(&heard, prompt, at).unwrap_or_else(|| panic!("{prompt} said in order"));
    }
}

/// Whether process `pid` is gone (or a zombie: killed, not yet reaped).
fn process_gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_program_that_ignores_its_session_is_killed_after_the_call() {
    require_program("python3");
    let out = tempfile::tempdir().unwrap();
    let pid_file = out.path().join("pid");
    let dialplan = format!(
        "[context.internal]\n\"8014\" = [\"Answer()\", \"AGI(stubborn.py,{})\", \"Hangup()\"]\n",
        pid_file.display()
    );
    let pbx = pbx_with(&dialplan, free_tcp_port());
    let media = RtpPeer::start();
    let run = call_as_6001(
        &pbx,
        "sipp/uac_bye.xml",
        "8014",
        media.port,
        &["-m", "1", "-d", "1500"],
    );
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        String::from_utf8_lossy(&run.output.stderr),
        pbx.log()
    );
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("the program did not start ({e})\n{}", pbx.log()));
    assert!(!process_gone(&pid), "the program runs while the call is up");
    let killed = common::wait_until(Duration::from_secs(20), || process_gone(&pid));
    assert!(
        killed,
        "process {pid} still runs after the call\n{}",
        pbx.log()
    );
}
