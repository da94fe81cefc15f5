//! AMI, driven by the real client library panoramisk (PyPI, pinned in scripts/test.sh),
//! unchanged, from the scenarios in tests/fixtures/ami/client.py: plain and MD5 logins and
//! Ping; a wrong secret answered "Authentication failed" and the connection closed after the
//! third; during a SIPp call to 8000, Newchannel, NewCallerid (its first step sets the
//! caller's name) and Hangup event callbacks and CoreShowChannels as an event list; during a call held in Wait, a user without the `call`
//! write class refused Hangup while an admin reads Status, sets and reads a variable and
//! hangs the call up. A missing python3 or panoramisk fails the test, never skips it. On the
//! raw wire: a client that does not log in in time is closed, and a logged-in client is told
//! `Event: Shutdown` when the pbx stops. Originate: panoramisk calls a baresip phone (6001,
//! auto-answer) into 8000 asynchronously (OriginateResponse, then the phone records hello
//! world and a Hangup follows); the npm client asterisk-manager originates with variables the
//! dialplan reads, and sees the Hangup. During a call in Wait: UserEvent comes back as an
//! event, PlayDTMF reaches the caller as an RFC 4733 event, Redirect moves it to 8000.
//! DBPut/DBGet/DBDel on the AstDB; BridgeList, BridgeInfo, ConfbridgeList, ConfbridgeMute and
//! ConfbridgeUnmute (the list's `Muted` follows) and ConfbridgeKick (which ends the call)
//! during a conference call;
//! Reload makes a new extension of the edited dialplan file callable; PJSIPShowEndpoints
//! lists a registered baresip phone with its contact and an unregistered one as unavailable;
//! PJSIPShowEndpoint details it (auth, AOR, contact status), PJSIPShowContacts lists its
//! contact, and PJSIPShowRegistrationsOutbound shows a trunk registered at a SIPp registrar.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::python::PythonClient;
use common::{
    call_as_6001, fixture, free_tcp_port, heard_recording, prompt_ulaw, read_wav, require_program,
    Baresip, Pbx, PbxOptions, RtpPeer,
};

const TEST_DIALPLAN: &str = r#"
[context.internal]
"8000" = ["Set(CALLERID(name)=Robot)", "Answer()", "Playback(hello-world)", "Hangup()"]
"7100" = ["Answer()", "Wait(20)", "Hangup()"]
"8030" = ["ConfBridge(8030)"]
"8020" = ["Set(SEEN=${FOO}/${BAZ})", "Playback(hello-world)", "Hangup()"]
"8050" = ["Set(DB(seen/${CALLERID(num)})=${EXTEN})", "Set(BACK=${DB(seen/6001)}:${DB_EXISTS(seen/6002)})", "Answer()", "Hangup()"]
"#;

fn ami_config(port: u16) -> String {
    format!(
        "[ami]\nenabled = true\nbind = \"127.0.0.1:{port}\"\nauth_timeout_secs = 2\n\n\
         [[ami.user]]\nusername = \"admin\"\nsecret = \"s3cret\"\nread = [\"all\"]\nwrite = [\"all\"]\n\n\
         [[ami.user]]\nusername = \"monitor\"\nsecret = \"watch\"\nread = [\"call\", \"dialplan\"]\nwrite = [\"reporting\"]\n"
    )
}

/// A pbx with AMI on a free port and the test dialplan; returns it and the AMI port.
fn pbx_with_ami() -> (Pbx, u16) {
    pbx_with_ami_and("")
}

/// [`pbx_with_ami`] with `extra` configuration.
fn pbx_with_ami_and(extra: &str) -> (Pbx, u16) {
    let dir = tempfile::tempdir().unwrap();
    let dialplan = dir.path().join("dialplan.toml");
    std::fs::write(&dialplan, TEST_DIALPLAN).unwrap();
    let port = free_tcp_port();
    let pbx = Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: format!(
                "[dialplan]\nfile = \"{}\"\n\n{}\n{extra}",
                dialplan.display(),
                ami_config(port)
            ),
            ..PbxOptions::default()
        },
    );
    (pbx, port)
}

/// Runs scenario `mode` of tests/fixtures/ami/client.py (panoramisk) against AMI on `port`.
fn client(mode: &str, port: u16) -> PythonClient {
    PythonClient::start("ami/client.py", &[mode, &port.to_string()])
}

#[test]
fn plain_login_gets_fully_booted_and_ping_answers_pong() {
    let (pbx, port) = pbx_with_ami();
    let result = client("plain", port).result(&pbx);
    assert_eq!(result["version"], "9.0.0", "{result}");
    assert_eq!(result["fully_booted"]["Status"], "Fully Booted", "{result}");
    assert_eq!(
        result["fully_booted"]["Privilege"], "system,all",
        "{result}"
    );
    let ping = &result["ping"];
    assert_eq!(ping["Response"], "Success", "{result}");
    assert_eq!(ping["Ping"], "Pong", "{result}");
    assert!(
        ping["ActionID"].as_str().is_some_and(|id| !id.is_empty()),
        "{result}"
    );
    let timestamp: f64 = ping["Timestamp"].as_str().unwrap().parse().unwrap();
    assert!(timestamp > 1.6e9, "{result}");
}

#[test]
fn md5_login_answers_a_challenge_then_accepts_the_key() {
    let (pbx, port) = pbx_with_ami();
    let result = client("md5", port).result(&pbx);
    let challenge = result["challenge"]["Challenge"].as_str().unwrap();
    assert!(
        !challenge.is_empty() && challenge.bytes().all(|b| b.is_ascii_digit()),
        "{result}"
    );
    assert_eq!(result["login"]["Response"], "Success", "{result}");
    assert_eq!(
        result["login"]["Message"], "Authentication accepted",
        "{result}"
    );
    assert_eq!(result["ping"]["Ping"], "Pong", "{result}");
}

#[test]
fn a_wrong_secret_fails_and_the_third_failure_closes_the_connection() {
    let (pbx, port) = pbx_with_ami();
    let result = client("wrong_secret", port).result(&pbx);
    assert_eq!(result["authenticated"], false, "{result}");
    let answers = result["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 3, "{result}");
    for answer in answers {
        assert_eq!(answer["Response"], "Error", "{result}");
        assert_eq!(answer["Message"], "Authentication failed", "{result}");
    }
    assert_eq!(result["closed"], true, "{result}");
}

#[test]
fn a_call_to_8000_raises_newchannel_and_hangup_and_is_listed_by_core_show_channels() {
    let (pbx, port) = pbx_with_ami();
    let mut client = client("call_events", port);
    client.ready(&pbx);
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8000", media.port, &["-m", "1"]);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    let result = client.result(&pbx);

    let created = &result["newchannel"];
    let channel = created["Channel"].as_str().unwrap();
    assert!(channel.starts_with("PJSIP/6001-"), "{result}");
    assert_eq!(created["ChannelState"], "4", "{result}");
    assert_eq!(created["ChannelStateDesc"], "Ring", "{result}");
    assert_eq!(created["CallerIDNum"], "6001", "{result}");
    assert_eq!(created["Exten"], "8000", "{result}");
    assert_eq!(created["Context"], "internal", "{result}");
    assert!(
        created["Uniqueid"].as_str().unwrap().contains('.'),
        "{result}"
    );

    let listing = result["listing"].as_array().unwrap();
    assert!(listing.len() >= 3, "{result}");
    let start = &listing[0];
    assert_eq!(start["Response"], "Success", "{result}");
    assert_eq!(start["EventList"], "start", "{result}");
    assert_eq!(start["Message"], "Channels will follow", "{result}");
    let action_id = start["ActionID"].as_str().unwrap();
    assert!(
        listing.iter().all(|m| m["ActionID"] == action_id),
        "{result}"
    );
    let items: Vec<_> = listing
        .iter()
        .filter(|m| m["Event"] == "CoreShowChannel")
        .collect();
    assert!(items.iter().any(|m| m["Channel"] == channel), "{result}");
    let complete = listing.last().unwrap();
    assert_eq!(complete["Event"], "CoreShowChannelsComplete", "{result}");
    assert_eq!(complete["EventList"], "Complete", "{result}");
    assert_eq!(complete["ListItems"], items.len().to_string(), "{result}");

    let caller = &result["newcallerid"];
    assert_eq!(caller["CallerIDName"], "Robot", "{result}");
    assert_eq!(caller["CallerIDNum"], "6001", "{result}");
    assert_eq!(
        caller["CID-CallingPres"], "0 (Presentation Allowed, Not Screened)",
        "{result}"
    );
    assert!(
        !result["varsets"].to_string().contains("CALLERID"),
        "CALLERID is a function, not a variable: {result}"
    );
    let hangup = &result["hangup"];
    assert_eq!(hangup["Uniqueid"], created["Uniqueid"], "{result}");
    assert_eq!(
        hangup["CallerIDName"], "Robot",
        "the snapshot keeps it: {result}"
    );
    assert_eq!(hangup["Cause"], "16", "{result}");
    assert_eq!(hangup["Cause-txt"], "Normal Clearing", "{result}");
    let events: Vec<&str> = result["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    for name in [
        "Newchannel",
        "Newstate",
        "Newexten",
        "HangupRequest",
        "Hangup",
    ] {
        assert!(events.contains(&name), "no {name} in {events:?}");
    }
}

#[test]
fn a_user_without_call_write_cannot_hang_up_and_an_admin_can() {
    let (pbx, port) = pbx_with_ami();
    let mut client = client("hangup", port);
    client.ready(&pbx);
    let media = RtpPeer::start();
    let started = Instant::now();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "7100", media.port, &["-m", "1"]);
    let call_lasted = started.elapsed();
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    let result = client.result(&pbx);

    assert_eq!(result["denied"]["Response"], "Error", "{result}");
    assert_eq!(result["denied"]["Message"], "Permission denied", "{result}");

    let status = result["status"].as_array().unwrap();
    assert_eq!(status[0]["EventList"], "start", "{result}");
    assert_eq!(
        status[0]["Message"], "Channel status will follow",
        "{result}"
    );
    let entries: Vec<_> = status.iter().filter(|m| m["Event"] == "Status").collect();
    assert_eq!(
        entries.len(),
        1,
        "the monitor's Hangup must leave the call up: {result}"
    );
    assert_eq!(entries[0]["ChannelStateDesc"], "Up", "{result}");
    assert_eq!(entries[0]["Application"], "Wait", "{result}");
    assert_eq!(
        status.last().unwrap()["Event"],
        "StatusComplete",
        "{result}"
    );

    assert_eq!(result["setvar"]["Response"], "Success", "{result}");
    assert_eq!(result["getvar"]["Value"], "hello", "{result}");
    assert_eq!(result["varset"]["Value"], "hello", "{result}");

    assert_eq!(result["hangup"]["Response"], "Success", "{result}");
    assert_eq!(result["hangup"]["Message"], "Channel Hungup", "{result}");
    assert_eq!(
        result["hangup_event"]["Channel"], entries[0]["Channel"],
        "{result}"
    );
    assert_eq!(
        result["hangup_again"]["Message"], "No such channel",
        "{result}"
    );
    assert!(
        call_lasted < Duration::from_secs(15),
        "the call lasted {call_lasted:?}: AMI Hangup did not end it before Wait(20)"
    );
}

/// Reads from `stream` until `done` holds for what was read, EOF, or `timeout`; returns the
/// text and whether the server closed the connection.
fn read_until(
    stream: &mut std::net::TcpStream,
    timeout: Duration,
    done: impl Fn(&str) -> bool,
) -> (String, bool) {
    use std::io::Read;
    let deadline = Instant::now() + timeout;
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !done(&text) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (text, false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (text, true),
            Ok(n) => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return (text, false)
            }
            Err(_) => return (text, true),
        }
    }
    (text, false)
}

#[test]
fn a_client_that_does_not_log_in_in_time_is_closed() {
    let (pbx, port) = pbx_with_ami();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let (text, closed) = read_until(&mut stream, Duration::from_secs(10), |_| false);
    assert_eq!(text, "Asterisk Call Manager/9.0.0\r\n", "{}", pbx.log());
    assert!(closed, "still open after 10 s");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(6),
        "closed after {waited:?}, auth_timeout_secs is 2"
    );
}

#[test]
fn a_logged_in_client_is_told_of_shutdown_and_closed() {
    use std::io::Write;
    let (pbx, port) = pbx_with_ami();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\nActionID: 7\r\n\r\n")
        .unwrap();
    let (text, _) = read_until(&mut stream, Duration::from_secs(10), |t| {
        t.contains("Event: FullyBooted")
    });
    assert!(
        text.contains(
            "Response: Success\r\nActionID: 7\r\nMessage: Authentication accepted\r\n\r\n"
        ),
        "{text}"
    );
    let stopping = std::thread::spawn(move || drop(pbx.stop()));
    let (text, closed) = read_until(&mut stream, Duration::from_secs(10), |_| false);
    stopping.join().unwrap();
    assert!(
        text.contains("Event: Shutdown\r\nPrivilege: system,all\r\nShutdown: Cleanly\r\n"),
        "{text}"
    );
    assert!(closed, "the connection stayed open: {text}");
}

/// Asserts that `phone` recorded about the length of hello-world, and not silence.
fn assert_heard_hello_world(phone: &Baresip, pbx: &Pbx) {
    let recording = heard_recording(phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}\n{}", phone.log(), pbx.log()));
    let (samples, rate) = read_wav(&recording);
    let expected = prompt_ulaw("hello-world").len() as f64 / 8000.0;
    let heard = samples.len() as f64 / f64::from(rate);
    assert!(
        heard >= expected * 0.9 && heard <= expected + 1.5,
        "recorded {heard:.2} s, the prompt lasts {expected:.2} s"
    );
    let loud = samples.iter().filter(|s| s.unsigned_abs() > 1000).count();
    assert!(loud > samples.len() / 20, "not speech: {loud} loud samples");
}

#[test]
fn panoramisk_originates_to_a_phone_into_8000_asynchronously() {
    let (pbx, port) = pbx_with_ami();
    let mut phone = Baresip::answering(&pbx, "6001", "", None, 15);
    let result = client("originate", port).result(&pbx);
    let responses = result["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 2, "{result}");
    assert_eq!(responses[0]["Response"], "Success", "{result}");
    assert_eq!(
        responses[0]["Message"], "Originate successfully queued",
        "{result}"
    );
    let answered = &responses[1];
    assert_eq!(answered["Event"], "OriginateResponse", "{result}");
    assert_eq!(answered["Response"], "Success", "{result}");
    assert_eq!(answered["Reason"], "4", "{result}");
    assert_eq!(answered["Channel"], "PJSIP/6001", "{result}");
    assert_eq!(answered["Exten"], "8000", "{result}");
    assert_eq!(answered["CallerIDNum"], "4242", "{result}");
    assert_eq!(answered["ActionID"], responses[0]["ActionID"], "{result}");
    let hangup = &result["hangup"];
    assert!(
        hangup["Channel"]
            .as_str()
            .is_some_and(|c| c.starts_with("PJSIP/6001-")),
        "{result}"
    );
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    assert_heard_hello_world(&phone, &pbx);
}

#[test]
fn panoramisk_originates_to_a_phone_straight_into_playback() {
    let (pbx, port) = pbx_with_ami();
    let mut phone = Baresip::answering(&pbx, "6001", "", None, 15);
    let result = client("originate_app", port).result(&pbx);
    let responses = result["responses"].as_array().unwrap();
    assert_eq!(
        responses[0]["Message"], "Originate successfully queued",
        "{result}"
    );
    assert_eq!(responses[1]["Event"], "OriginateResponse", "{result}");
    assert_eq!(responses[1]["Response"], "Success", "{result}");
    assert_eq!(
        result["hangup"]["Cause"], "16",
        "Playback ended, then the call: {result}"
    );
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    assert_heard_hello_world(&phone, &pbx);
}

#[test]
fn asterisk_manager_on_npm_originates_with_variables_and_sees_the_hangup() {
    let node = require_program("node");
    let (pbx, port) = pbx_with_ami();
    let mut phone = Baresip::answering(&pbx, "6001", "", None, 15);
    let dir = fixture("ami/node");
    assert!(
        dir.join("node_modules/asterisk-manager").is_dir(),
        "asterisk-manager is not installed: run npm ci --prefix {}",
        dir.display()
    );
    let out = Command::new(node)
        .arg(dir.join("originate.js"))
        .arg(port.to_string())
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        pbx.log()
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["response"]["response"], "Success", "{seen}");
    assert_eq!(
        seen["response"]["message"], "Originate successfully queued",
        "{seen}"
    );
    assert_eq!(seen["originate_response"]["response"], "Success", "{seen}");
    assert_eq!(seen["originate_response"]["calleridnum"], "5005", "{seen}");
    let uniqueid = seen["originate_response"]["uniqueid"].as_str().unwrap();
    let set = seen["varsets"]
        .as_array()
        .unwrap()
        .iter()
        // asterisk-manager reads any `Variable` header as name=value into an object.
        .find(|v| v["variable"].get("SEEN").is_some() && v["uniqueid"] == uniqueid)
        .unwrap_or_else(|| panic!("no VarSet of SEEN on the channel: {seen}"));
    assert_eq!(set["value"], "bar/two words", "{seen}");
    assert_eq!(seen["hangup"]["uniqueid"], uniqueid, "{seen}");
    assert_eq!(seen["hangup"]["cause"], "16", "{seen}");
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    assert_heard_hello_world(&phone, &pbx);
}

#[test]
fn user_event_play_dtmf_and_redirect_act_on_a_call() {
    let (pbx, port) = pbx_with_ami();
    let mut client = client("control", port);
    client.ready(&pbx);
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "7100", media.port, &["-m", "1"]));
        client.line(&pbx, "DTMF", |l| l == "DTMF");
        let run = caller.join().unwrap();
        assert_eq!(
            (run.successful, run.failed),
            (1, 0),
            "{}\n{}",
            run.stdout,
            pbx.log()
        );
    });
    let result = client.result(&pbx);
    assert_eq!(result["user"]["Response"], "Success", "{result}");
    assert_eq!(result["user"]["Message"], "Event Sent", "{result}");
    assert_eq!(result["user_event"]["Room"], "lobby", "{result}");
    assert_eq!(result["user_event"]["Privilege"], "user,all", "{result}");
    assert_eq!(
        result["dtmf"]["Message"], "DTMF successfully queued",
        "{result}"
    );
    assert_eq!(result["bad_digit"]["Response"], "Error", "{result}");
    assert_eq!(result["nowhere"]["Response"], "Error", "{result}");
    assert_eq!(
        result["redirect"]["Message"], "Redirect successful",
        "{result}"
    );
    let events: Vec<_> = media
        .packets()
        .into_iter()
        .filter(|p| p.payload_type == 101)
        .collect();
    assert!(
        events.iter().any(|p| p.payload.first() == Some(&7)),
        "no RFC 4733 event for 7 reached the caller ({} telephone-event packets)",
        events.len()
    );
    assert!(
        media.heard_prompt("hello-world"),
        "the redirected caller heard hello-world"
    );
}

#[test]
fn db_put_get_and_del_work_on_the_astdb_and_originate_needs_its_class() {
    let (pbx, port) = pbx_with_ami();
    let result = client("db", port).result(&pbx);
    assert_eq!(
        result["put"]["Message"], "Updated database successfully",
        "{result}"
    );
    let got = result["get"].as_array().unwrap();
    assert_eq!(got[0]["Message"], "Result will follow", "{result}");
    let response = got
        .iter()
        .find(|m| m["Event"] == "DBGetResponse")
        .unwrap_or_else(|| panic!("no DBGetResponse: {result}"));
    assert_eq!(response["Family"], "cidname", "{result}");
    assert_eq!(response["Val"], "Alice B", "{result}");
    assert_eq!(got.last().unwrap()["Event"], "DBGetComplete", "{result}");
    assert_eq!(
        result["del"]["Message"], "Key deleted successfully",
        "{result}"
    );
    assert_eq!(
        result["missing"][0]["Message"], "Database entry not found",
        "{result}"
    );
    assert_eq!(result["no_key"]["Message"], "No key specified", "{result}");
    let tree: Vec<(String, String)> = result["tree"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Event"] == "DBGetTreeResponse")
        .map(|m| {
            (
                m["Key"].as_str().unwrap().into(),
                m["Val"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        tree,
        [
            ("/names/6001".into(), "Alice".into()),
            ("/names/6002".into(), "Bob".into())
        ],
        "{result}"
    );
    let complete = result["tree"].as_array().unwrap().last().unwrap();
    assert_eq!(complete["Event"], "DBGetTreeComplete", "{result}");
    assert_eq!(complete["ListItems"], "2", "{result}");
    assert_eq!(
        result["del_tree"]["Message"], "Key tree deleted successfully",
        "{result}"
    );
    assert_eq!(
        result["empty_tree"][0]["Message"], "Database entry not found",
        "{result}"
    );
    assert_eq!(
        result["originate_denied"]["Message"], "Permission denied",
        "a user without the originate write class: {result}"
    );
}

#[test]
fn the_dialplan_writes_and_reads_the_astdb_that_ami_lists() {
    let (pbx, port) = pbx_with_ami();
    let mut events = common::events::EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8050", media.port, &["-m", "1"]);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    events.expect("BACK read from the AstDB", |e| {
        e["type"] == "ChannelVarset" && e["variable"] == "BACK" && e["value"] == "8050:0"
    });
    let result = client("cli_db", port).result(&pbx);
    assert_eq!(result["get"]["Output"], "Value: 8050", "{result}");
}

#[test]
fn bridge_and_confbridge_actions_show_a_conference_and_kick_its_member() {
    let (pbx, port) = pbx_with_ami();
    let mut client = client("bridges", port);
    client.ready(&pbx);
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8030", media.port, &["-m", "1"]);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    let result = client.result(&pbx);
    let bridge = result["bridge"].as_str().unwrap();
    let list = result["list"].as_array().unwrap();
    assert_eq!(list[0]["Message"], "Bridge listing will follow", "{result}");
    let items: Vec<_> = list
        .iter()
        .filter(|m| m["Event"] == "BridgeListItem")
        .collect();
    assert_eq!(items.len(), 1, "{result}");
    assert_eq!(items[0]["BridgeUniqueid"], bridge, "{result}");
    assert_eq!(items[0]["BridgeTechnology"], "softmix", "{result}");
    assert_eq!(items[0]["BridgeName"], "8030", "{result}");
    let info = result["info"].as_array().unwrap();
    let members: Vec<_> = info
        .iter()
        .filter(|m| m["Event"] == "BridgeInfoChannel")
        .collect();
    assert_eq!(members.len(), 1, "{result}");
    assert!(
        members[0]["Channel"]
            .as_str()
            .is_some_and(|c| c.starts_with("PJSIP/6001-")),
        "{result}"
    );
    let complete = info.last().unwrap();
    assert_eq!(complete["Event"], "BridgeInfoComplete", "{result}");
    assert_eq!(complete["BridgeUniqueid"], bridge, "{result}");
    assert_eq!(
        result["missing"]["Message"], "Specified BridgeUniqueid not found",
        "{result}"
    );
    let members = result["members"].as_array().unwrap();
    assert_eq!(
        members[0]["Message"], "Confbridge user list will follow",
        "{result}"
    );
    let member = members
        .iter()
        .find(|m| m["Event"] == "ConfbridgeList")
        .unwrap_or_else(|| panic!("no ConfbridgeList: {result}"));
    assert_eq!(member["Conference"], "8030", "{result}");
    assert_eq!(member["Channel"], members_channel(&result), "{result}");
    assert_eq!(
        result["no_room"]["Message"], "No Conference by that name found.",
        "{result}"
    );
    assert_eq!(member["Muted"], "No", "{result}");
    let confbridge: Vec<_> = result["confbridge"].as_array().unwrap().iter().collect();
    let names: Vec<&str> = confbridge
        .iter()
        .filter_map(|e| e["Event"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ConfbridgeStart",
            "ConfbridgeJoin",
            "ConfbridgeLeave",
            "ConfbridgeEnd"
        ],
        "{result}"
    );
    assert!(
        confbridge.iter().all(|e| e["Conference"] == "8030"),
        "{result}"
    );
    assert_eq!(confbridge[1]["Channel"], member["Channel"], "{result}");
    assert_eq!(result["muted"]["Message"], "User muted", "{result}");
    assert_eq!(muted_flag(&result["muted_list"]), "Yes", "{result}");
    assert_eq!(result["unmuted"]["Message"], "User unmuted", "{result}");
    assert_eq!(muted_flag(&result["unmuted_list"]), "No", "{result}");
    assert_eq!(
        result["stranger"]["Message"], "No Channel by that name found in Conference.",
        "{result}"
    );
    assert_eq!(
        result["kicked"]["Message"], "All participants kicked",
        "the kick ended the SIPp call with BYE: {result}"
    );
}

/// The `Muted` flag of the one member a ConfbridgeList answer lists.
fn muted_flag(list: &serde_json::Value) -> String {
    let members: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Event"] == "ConfbridgeList")
        .collect();
    assert_eq!(members.len(), 1, "{list}");
    members[0]["Muted"].as_str().unwrap_or_default().to_owned()
}

/// The channel BridgeInfo listed.
fn members_channel(result: &serde_json::Value) -> serde_json::Value {
    result["info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Event"] == "BridgeInfoChannel")
        .map(|m| m["Channel"].clone())
        .unwrap_or_default()
}

#[test]
fn reload_reads_the_edited_dialplan() {
    let (pbx, port) = pbx_with_ami();
    let edited = format!(
        "{TEST_DIALPLAN}\"8040\" = [\"Answer()\", \"Playback(hello-world)\", \"Hangup()\"]\n"
    );
    std::fs::write(pbx.dir.path().join("dialplan.toml"), edited).unwrap();
    let result = client("reload", port).result(&pbx);
    assert_eq!(result["reloaded"]["Message"], "Module Reloaded", "{result}");
    assert_eq!(result["unknown"]["Message"], "No such module", "{result}");
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8040", media.port, &["-m", "1"]);
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    assert!(media.heard_prompt("hello-world"), "{}", pbx.log());
}

/// The `Output` lines of a Command reply.
fn output(reply: &serde_json::Value) -> Vec<String> {
    match &reply["Output"] {
        serde_json::Value::Array(lines) => lines
            .iter()
            .filter_map(|l| l.as_str().map(str::to_owned))
            .collect(),
        serde_json::Value::String(line) => vec![line.clone()],
        _ => Vec::new(),
    }
}

#[test]
fn the_command_action_runs_cli_commands_as_asterisk_prints_them() {
    let (pbx, port) = pbx_with_ami();
    let mut client = client("cli", port);
    client.ready(&pbx);
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let call =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "7100", media.port, &["-m", "1"]));
        let result = client.result(&pbx);
        let concise = output(&result["concise"]);
        let line = concise
            .iter()
            .find(|l| l.starts_with("PJSIP/6001-"))
            .unwrap_or_else(|| panic!("the call is not listed: {result}"));
        let fields: Vec<&str> = line.split('!').collect();
        assert_eq!(fields.len(), 14, "{line}");
        assert_eq!(
            (fields[1], fields[2], fields[4], fields[5]),
            ("internal", "7100", "Up", "Wait"),
            "{line}"
        );
        assert_eq!(
            result["concise"]["Message"], "Command output follows",
            "{result}"
        );
        let table = output(&result["table"]);
        assert!(table[0].starts_with("Channel"), "{table:?}");
        assert!(
            table
                .iter()
                .any(|l| l.starts_with("PJSIP/6001-") && l.contains("7100@internal:2")),
            "{table:?}"
        );
        assert!(table.contains(&"1 active channel".to_owned()), "{table:?}");
        assert_eq!(
            output(&result["count"])[..2],
            ["1 active channel", "1 active call"]
        );
        assert!(
            output(&result["version"])[0].starts_with("Asterisk pbx-"),
            "{result}"
        );
        let uptime = output(&result["uptime"]);
        assert!(
            uptime[0]
                .strip_prefix("System uptime: ")
                .is_some_and(|n| n.parse::<u64>().is_ok()),
            "{uptime:?}"
        );
        assert_eq!(output(&result["put"]), ["Updated database successfully"]);
        let show = output(&result["show"]);
        assert!(
            show[0].starts_with("/cidname/6001") && show[0].ends_with(": Alice B"),
            "{show:?}"
        );
        assert_eq!(show[1], "1 result found.");
        assert_eq!(output(&result["get"]), ["Value: Alice B"]);
        assert_eq!(output(&result["del"]), ["Database entry removed."]);
        assert_eq!(result["gone"]["Response"], "Error", "{result}");
        assert_eq!(result["unknown"]["Response"], "Error", "{result}");
        assert!(
            output(&result["unknown"])[0].starts_with("No such command 'sip show peers'"),
            "{result}"
        );
        assert_eq!(output(&result["reload"]), ["Dialplan reloaded."]);
        let channel = fields[13];
        assert!(pbx.ctl(&["hangup", channel]).status.success());
        let run = call.join().unwrap();
        assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
    });
}

#[test]
fn pjsip_show_endpoints_lists_contacts_and_device_states() {
    let (pbx, port) = pbx_with_ami();
    let _phone = Baresip::answering(&pbx, "6001", "", None, 20);
    let result = client("endpoints", port).result(&pbx);
    let list = result["list"].as_array().unwrap();
    assert_eq!(
        list[0]["Message"], "A listing of Endpoints follows, presented as EndpointList events",
        "{result}"
    );
    let endpoint = |name: &str| {
        list.iter()
            .find(|m| m["Event"] == "EndpointList" && m["ObjectName"] == name)
            .unwrap_or_else(|| panic!("no EndpointList for {name}: {result}"))
    };
    let registered = endpoint("6001");
    assert!(
        registered["Contacts"]
            .as_str()
            .is_some_and(|c| c.starts_with("6001/sip:")),
        "{result}"
    );
    assert_eq!(registered["DeviceState"], "Not in use", "{result}");
    assert_eq!(endpoint("6002")["DeviceState"], "Unavailable", "{result}");
    let complete = list.last().unwrap();
    assert_eq!(complete["Event"], "EndpointListComplete", "{result}");
    assert_eq!(complete["ListItems"], "2", "{result}");
}

#[test]
fn pjsip_details_show_an_endpoint_its_contacts_and_the_trunks_registration() {
    let registrar_port = common::free_port();
    let registrar = std::thread::spawn(move || {
        common::sipp_from(
            "127.0.0.1",
            &fixture("sipp/registrar_accept.xml"),
            "127.0.0.1:5060".parse().unwrap(),
            &["-p", &registrar_port.to_string(), "-m", "1"],
        )
    });
    assert!(
        common::wait_until(Duration::from_secs(10), || common::callee::udp_bound(
            registrar_port
        )),
        "the registrar SIPp did not bind"
    );
    let (pbx, port) = pbx_with_ami_and(&format!(
        "[[trunk]]\nname = \"provider\"\nhost = \"127.0.0.1\"\nport = {registrar_port}\n\
         username = \"pbxuser\"\npassword = \"x\"\nexpiry_secs = 300\n"
    ));
    registrar.join().unwrap().assert_succeeded(1, &pbx);
    let phone = Baresip::answering(&pbx, "6001", "", None, 20);
    let result = client("pjsip", port).result(&pbx);

    let endpoint = result["endpoint"].as_array().unwrap();
    let events: Vec<&str> = endpoint
        .iter()
        .filter_map(|m| m["Event"].as_str())
        .collect();
    assert_eq!(
        events,
        [
            "EndpointDetail",
            "AuthDetail",
            "AorDetail",
            "ContactStatusDetail",
            "EndpointDetailComplete"
        ],
        "{result}"
    );
    assert_eq!(endpoint[1]["Context"], "internal", "{result}");
    assert_eq!(endpoint[1]["DeviceState"], "Not in use", "{result}");
    let status = &endpoint[4];
    assert!(
        status["URI"]
            .as_str()
            .is_some_and(|u| u.starts_with("sip:6001")),
        "{result}"
    );
    assert!(
        status["UserAgent"]
            .as_str()
            .is_some_and(|u| u.contains("baresip")),
        "{result}"
    );
    assert_eq!(endpoint[3]["Contacts"], status["URI"], "{result}");
    assert_eq!(
        result["unknown"][0]["Message"], "Unable to retrieve endpoint 9999",
        "{result}"
    );

    let contacts = result["contacts"].as_array().unwrap();
    let listed: Vec<_> = contacts
        .iter()
        .filter(|m| m["Event"] == "ContactList")
        .collect();
    assert_eq!(listed.len(), 1, "{result}");
    assert_eq!(listed[0]["Endpoint"], "6001", "{result}");
    assert_eq!(listed[0]["Uri"], status["URI"], "{result}");
    assert_eq!(listed[0]["ObjectName"], status["ID"], "{result}");

    let registrations = result["registrations"].as_array().unwrap();
    let detail = registrations
        .iter()
        .find(|m| m["Event"] == "OutboundRegistrationDetail")
        .unwrap_or_else(|| panic!("no registration: {result}"));
    assert_eq!(detail["ObjectName"], "provider", "{result}");
    assert_eq!(detail["Status"], "Registered", "{result}");
    assert_eq!(
        detail["ServerUri"],
        format!("sip:127.0.0.1:{registrar_port}"),
        "{result}"
    );
    let complete = registrations.last().unwrap();
    assert_eq!(
        complete["Event"], "OutboundRegistrationDetailComplete",
        "{result}"
    );
    assert_eq!(
        (&complete["Registered"], &complete["NotRegistered"]),
        (&"1".into(), &"0".into()),
        "{result}"
    );
    drop(phone);
}
