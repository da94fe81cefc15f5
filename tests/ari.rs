//! ARI against the real client libraries, unchanged: an `ari-client` (npm) application and an
//! `aioari` (PyPI) application each connect, list endpoints, get `StasisStart` for a SIPp
//! call to 8003 (`Stasis(demo)`), answer, play `sound:hello-world` (the caller hears it,
//! checked as audio), take the caller's key and hang up; the events they received follow
//! Asterisk's order. An aioari application bridges two callers, who hear each other's
//! tones. The drachtio media-server flow (config/drachtio.toml): an application server's INVITE
//! is answered and played to by its ari-client app. An ari-client app pauses, unpauses and
//! stops a playback, and the caller hears it do so. Also: credentials (401, 403), the Swagger documents' `basePath`,
//! `Stasis()` of an application nobody holds, `ApplicationReplaced`, and an application
//! that reconnects with `since=` receiving the events of the gap.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::ari::AppSocket;
use common::events::EventStream;
use common::{
    call_as_6001, fixture, require_program, sipp, tone_power, ulaw_rms_dbfs, ulaw_samples, Pbx,
    PbxOptions, RtpPeer, ToneStream,
};
use serde_json::Value;

/// The accounts of the test config: one that may do anything, one that may only read.
const USERS: &str = "[[ari.user]]\nusername = \"app\"\npassword = \"secret\"\n\n\
    [[ari.user]]\nusername = \"watch\"\npassword = \"only\"\nread_only = true\n";

/// What Asterisk sends an application for the flow of the client scripts, in order.
const FLOW: [&str; 8] = [
    "StasisStart",
    "ChannelStateChange",
    "PlaybackStarted",
    "PlaybackFinished",
    "ChannelDtmfReceived",
    "ChannelHangupRequest",
    "StasisEnd",
    "ChannelDestroyed",
];

fn start() -> Pbx {
    Pbx::start_with(PbxOptions {
        extra_config: USERS.into(),
        ..PbxOptions::default()
    })
}

/// A client script running, its stdout lines arriving on a channel.
struct Client {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Client {
    fn spawn(mut command: Command) -> Client {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the client script");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Client { child, lines }
    }

    /// The first line of output within `timeout` that `wanted` accepts (the libraries log
    /// to stdout too).
    fn line(&self, timeout: Duration, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            if wanted(&line) {
                return Some(line);
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client script against `pbx` for one call to 8003; its report.
fn flow(pbx: &Pbx, client: Command) -> Value {
    let client = Client::spawn(client);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let media = RtpPeer::start();
    let run = call_as_6001(
        pbx,
        "ari/uac_key_then_pbx_hangs_up.xml",
        "8003",
        media.port,
        &["-m", "1"],
    );
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    let report = client
        .line(Duration::from_secs(20), |l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("the client printed no report\n{}", pbx.log()));
    let report: Value = serde_json::from_str(&report).expect("the report is JSON");
    assert!(
        media.heard_prompt("hello-world"),
        "the caller did not hear hello world\n{}",
        pbx.log()
    );
    assert_eq!(
        report["endpoints"],
        serde_json::json!(["PJSIP/6001", "PJSIP/6002"])
    );
    assert_eq!(report["args"], serde_json::json!([]));
    assert_eq!(report["caller"], "6001");
    assert_eq!(report["digit"], "5");
    assert_eq!(report["playback"], "playing");
    let events: Vec<&str> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| FLOW.contains(t))
        .collect();
    assert_eq!(events, FLOW, "{report}");
    common::assert_no_leftovers(pbx);
    report
}

#[test]
fn an_ari_client_application_answers_plays_takes_a_key_and_hangs_up() {
    require_program("node");
    let modules = fixture("ari/node_modules");
    assert!(
        modules.join("ari-client").is_dir(),
        "ari-client is not installed; scripts/test.sh installs it (npm ci in tests/fixtures/ari)"
    );
    let pbx = start();
    let mut node = Command::new("node");
    node.arg(fixture("ari/flow.js"))
        .args([pbx.api.as_str(), "app", "secret", "demo"])
        .env("NODE_PATH", &modules);
    flow(&pbx, node);
}

#[test]
fn an_aioari_application_answers_plays_takes_a_key_and_hangs_up() {
    require_program("python3");
    let pbx = start();
    let mut python = Command::new("python3");
    python
        .arg(fixture("ari/flow.py"))
        .args([&format!("{}/", pbx.api), "app", "secret", "demo"]);
    flow(&pbx, python);
}

/// A GET or POST to `path` with `user:password` (Basic) if given: status, headers' challenge
/// and body.
fn request(
    pbx: &Pbx,
    method: &str,
    path: &str,
    auth: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request =
        ureq::request(method, &format!("{}{path}", pbx.api)).timeout(Duration::from_secs(5));
    if let Some(auth) = auth {
        request = request.set("Authorization", &format!("Basic {}", base64(auth)));
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {path}: {error}"),
    };
    let status = response.status();
    let challenge = response.header("WWW-Authenticate").map(str::to_owned);
    let body = response.into_string().unwrap_or_default();
    (
        status,
        challenge,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn ari_wants_credentials_and_read_only_users_only_read() {
    let pbx = start();
    let (status, challenge, body) = request(&pbx, "GET", "/ari/asterisk/info", None);
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some("Basic realm=\"pbx\""));
    assert!(body["message"].is_string(), "{body}");
    let (status, ..) = request(&pbx, "GET", "/ari/asterisk/info", Some("app:wrong"));
    assert_eq!(status, 401);
    let (status, _, info) = request(&pbx, "GET", "/ari/asterisk/info?api_key=app:secret", None);
    assert_eq!(status, 200);
    assert!(info["system"]["entity_id"].is_string(), "{info}");
    let (status, _, bridges) = request(&pbx, "GET", "/ari/bridges", Some("watch:only"));
    assert_eq!((status, bridges), (200, serde_json::json!([])));
    let (status, _, body) = request(&pbx, "POST", "/ari/bridges", Some("watch:only"));
    assert_eq!(status, 403, "{body}");
    let (status, _, bridge) = request(
        &pbx,
        "POST",
        "/ari/bridges?type=holding",
        Some("app:secret"),
    );
    assert_eq!(
        (status, bridge["bridge_type"].as_str()),
        (200, Some("holding"))
    );
    let (status, _, listing) = request(
        &pbx,
        "GET",
        "/ari/api-docs/resources.json",
        Some("app:secret"),
    );
    assert_eq!(status, 200);
    assert_eq!(listing["basePath"], format!("{}/ari", pbx.api));
    let (status, _, missing) = request(&pbx, "POST", "/ari/channels/none/play", Some("app:secret"));
    assert_eq!(
        (status, missing["message"].as_str()),
        (400, Some("Missing parameter media"))
    );
    let (status, _, unknown) = request(
        &pbx,
        "POST",
        "/ari/channels/none/answer",
        Some("app:secret"),
    );
    assert_eq!(
        (status, unknown["message"].as_str()),
        (404, Some("Channel not found"))
    );
}

#[test]
fn an_application_that_reconnects_with_since_gets_the_events_of_the_gap() {
    let pbx = start();
    let mut first = AppSocket::connect(&pbx, "app=demo");
    let mut second = AppSocket::connect(&pbx, "app=demo");
    first.expect("ApplicationReplaced", |e| {
        e["type"] == "ApplicationReplaced" && e["application"] == "demo"
    });
    drop(first);
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let caller = s.spawn(|| {
            call_as_6001(
                &pbx,
                "ari/uac_key_then_pbx_hangs_up.xml",
                "8003",
                media.port,
                &["-m", "1"],
            )
        });
        let start = second.expect("StasisStart", |e| e["type"] == "StasisStart");
        let channel = start["channel"]["id"].as_str().unwrap().to_string();
        let seen = start["sequence"]
            .as_u64()
            .expect("events carry their sequence");
        drop(second);
        let (status, ..) = request(
            &pbx,
            "POST",
            &format!("/ari/channels/{channel}/answer"),
            Some("app:secret"),
        );
        assert_eq!(status, 204);
        let mut events = EventStream::connect(&pbx.api, Some(seen));
        let keyed = events.read_until(Duration::from_secs(10), |got| {
            got.iter().any(|e| e["type"] == "ChannelDtmfReceived")
        });
        assert!(keyed, "no key press: {:?}", events.received);
        let key = events
            .received
            .iter()
            .find(|e| e["type"] == "ChannelDtmfReceived")
            .unwrap();
        // The caller's SIP INFO says Duration=160.
        assert_eq!(key["duration_ms"], 160, "{key}");
        let (status, ..) = request(
            &pbx,
            "DELETE",
            &format!("/ari/channels/{channel}"),
            Some("app:secret"),
        );
        assert_eq!(status, 204);
        let run = caller.join().unwrap();
        assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
        let mut again = AppSocket::connect(&pbx, &format!("app=demo&since={seen}"));
        again.expect("ChannelDestroyed", |e| e["type"] == "ChannelDestroyed");
        let gap: Vec<&str> = again
            .received
            .iter()
            .filter(|e| e["channel"]["id"] == channel.as_str())
            .filter_map(|e| e["type"].as_str())
            .filter(|t| FLOW.contains(t))
            .collect();
        assert_eq!(
            gap,
            [
                "ChannelStateChange",
                "ChannelDtmfReceived",
                "ChannelHangupRequest",
                "StasisEnd",
                "ChannelDestroyed"
            ]
        );
        let sequences: Vec<u64> = again
            .received
            .iter()
            .filter_map(|e| e["sequence"].as_u64())
            .collect();
        assert!(sequences.iter().all(|s| *s > seen), "{sequences:?}");
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    });
    common::assert_no_leftovers(&pbx);
}

#[test]
fn stasis_of_an_application_nobody_holds_fails_the_step() {
    let pbx = start();
    let mut events = EventStream::connect(&pbx.api, None);
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8003", media.port, &["-m", "1"]);
    let failed = events.read_until(Duration::from_secs(10), |got| {
        got.iter().any(|e| {
            e["type"] == "ChannelVarset"
                && e["variable"] == "STASISSTATUS"
                && e["value"] == "FAILED"
        })
    });
    assert!(failed, "{:?}\n{}", events.received, pbx.log());
    assert!(
        !events.received.iter().any(|e| e["type"] == "StasisStart"),
        "{:?}",
        events.received
    );
    let next = events.read_until(Duration::from_secs(5), |got| {
        got.iter().any(|e| {
            e["type"] == "ChannelDialplan" && e["channel"]["dialplan"]["app_name"] == "Hangup"
        })
    });
    assert!(next, "the next step runs: {:?}", events.received);
    drop(run);
    common::assert_no_leftovers(&pbx);
}

/// The power of `freq` in the mu-law audio `peer` received between `from` and `to`.
fn heard_power(peer: &RtpPeer, from: Instant, to: Instant, freq: f64) -> f64 {
    let payload: Vec<u8> = peer
        .packets()
        .iter()
        .filter(|p| p.payload_type == 0 && p.at >= from && p.at < to)
        .flat_map(|p| p.payload.iter().copied())
        .collect();
    let samples = ulaw_samples(&payload);
    assert!(
        samples.len() >= 8_000,
        "only {} samples heard",
        samples.len()
    );
    tone_power(&samples, 8_000, freq)
}

#[test]
fn an_aioari_application_bridges_two_callers_who_hear_each_other() {
    require_program("python3");
    let pbx = start();
    let mut python = Command::new("python3");
    python
        .arg(fixture("ari/bridge.py"))
        .args([&format!("{}/", pbx.api), "app", "secret", "demo"]);
    let client = Client::spawn(python);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let (one, two) = (RtpPeer::start(), RtpPeer::start());
    let pbx_ref = &pbx;
    std::thread::scope(|s| {
        let calls: Vec<_> = [&one, &two]
            .into_iter()
            .map(|peer| {
                s.spawn(move || {
                    call_as_6001(
                        pbx_ref,
                        "sipp/uac_call.xml",
                        "8003",
                        peer.port,
                        &["-m", "1"],
                    )
                })
            })
            .collect();
        let tones = [(&one, 440.0), (&two, 1_000.0)].map(|(peer, freq)| {
            peer.stream_tone(ToneStream {
                freq,
                ptime_ms: 20,
                duration: Duration::from_secs(10),
                pause: None,
            })
        });
        let bridged = client.line(Duration::from_secs(20), |l| l == "BRIDGED");
        assert!(
            bridged.is_some(),
            "the application bridged nobody\n{}",
            pbx.log()
        );
        std::thread::sleep(Duration::from_millis(1_000));
        let from = Instant::now();
        std::thread::sleep(Duration::from_millis(2_000));
        let to = Instant::now();
        for (peer, hears, own) in [(&one, 1_000.0, 440.0), (&two, 440.0, 1_000.0)] {
            let (other, itself) = (
                heard_power(peer, from, to, hears),
                heard_power(peer, from, to, own),
            );
            assert!(
                other > 1e-3 && itself * 100.0 < other,
                "{hears} Hz {other:.2e}, own {own} Hz {itself:.2e}\n{}",
                pbx.log()
            );
        }
        let report = client
            .line(Duration::from_secs(20), |l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("no report\n{}", pbx.log()));
        let report: Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["bridge"]["type"], "mixing", "{report}");
        assert_eq!(
            report["bridge"]["channels"].as_array().map(Vec::len),
            Some(2)
        );
        let events: Vec<&str> = report["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for kind in [
            "ChannelEnteredBridge",
            "ChannelLeftBridge",
            "BridgeDestroyed",
            "StasisEnd",
        ] {
            assert!(events.contains(&kind), "{kind}: {events:?}");
        }
        for tone in tones {
            tone.join().unwrap();
        }
        for call in calls {
            let run = call.join().unwrap();
            assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
        }
    });
    common::assert_no_leftovers(&pbx);
}

#[test]
fn a_drachtio_application_servers_call_is_answered_and_played_to_by_its_ari_application() {
    require_program("node");
    let dialplan = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/drachtio-dialplan.toml");
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: format!(
            "{USERS}\n[dialplan]\nfile = \"{}\"\n\n[[trunk]]\nname = \"drachtio\"\n\
             host = \"127.0.0.1\"\nregister = false\ncontext = \"drachtio\"\n\
             allow_from = [\"127.0.0.0/8\"]\n",
            dialplan.display()
        ),
        ..PbxOptions::default()
    });
    let app = "drachtio-5c1e7a0e-2f4b-4c1d-9a0e-5b8f3c2d1e0f";
    let mut node = Command::new("node");
    node.arg(fixture("ari/drachtio.js"))
        .args([pbx.api.as_str(), "app", "secret", app])
        .env("NODE_PATH", fixture("ari/node_modules"));
    let client = Client::spawn(node);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let run = sipp(
        &fixture("ari/drachtio_invite.xml"),
        pbx.sip,
        &["-s", app, "-m", "1", "-key", "rtp_port", &port],
    );
    assert_eq!(
        (run.successful, run.failed),
        (1, 0),
        "{}\n{}",
        run.stdout,
        pbx.log()
    );
    let report = client
        .line(Duration::from_secs(20), |l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no report\n{}", pbx.log()));
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["caller"], "4711", "{report}");
    assert_eq!(report["state"], "Up", "{report}");
    assert!(
        media.heard_prompt("hello-world"),
        "the application server did not get hello world\n{}",
        pbx.log()
    );
    common::assert_no_leftovers(&pbx);
}

/// The level (dBFS) of the mu-law audio `peer` received between `from` and `to`.
fn level(peer: &RtpPeer, from: Instant, to: Instant) -> f64 {
    let payload: Vec<u8> = peer
        .packets()
        .iter()
        .filter(|p| p.payload_type == 0 && p.at >= from && p.at < to)
        .flat_map(|p| p.payload.iter().copied())
        .collect();
    ulaw_rms_dbfs(&payload)
}

/// When the client printed each of `marks`, in order (each within 15 s of the one before).
fn marks_seen(client: &Client, pbx: &Pbx, marks: &[&str]) -> Vec<Instant> {
    marks
        .iter()
        .map(|mark| {
            let seen = client.line(Duration::from_secs(15), |l| l == *mark);
            assert!(seen.is_some(), "no {mark}\n{}", pbx.log());
            Instant::now()
        })
        .collect()
}

/// Checks what `media` heard in each window (name, from, to, audible or silent).
fn assert_levels(media: &RtpPeer, pbx: &Pbx, windows: &[(&str, Instant, Instant, bool)]) {
    for &(what, from, to, audible) in windows {
        let dbfs = level(media, from, to);
        assert!(
            if audible { dbfs > -45.0 } else { dbfs < -60.0 },
            "{what}: {dbfs:.1} dBFS\n{}",
            pbx.log()
        );
    }
}

/// The client's JSON report line.
fn report_of(client: &Client, pbx: &Pbx) -> Value {
    let report = client
        .line(Duration::from_secs(15), |l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no report\n{}", pbx.log()));
    serde_json::from_str(&report).unwrap()
}

#[test]
fn an_ari_client_application_pauses_unpauses_and_stops_what_the_caller_hears() {
    require_program("node");
    let pbx = start();
    let mut node = Command::new("node");
    node.arg(fixture("ari/playback.js"))
        .args([pbx.api.as_str(), "app", "secret", "demo"])
        .env("NODE_PATH", fixture("ari/node_modules"));
    let client = Client::spawn(node);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8003", media.port, &["-m", "1"]));
        let marks = marks_seen(&client, &pbx, &["PLAYING", "PAUSED", "UNPAUSED", "STOPPED"]);
        let settle = Duration::from_millis(300);
        // Each mark is printed just after its change: judge the audio between the marks, a
        // settling margin away from each.
        let windows = [
            ("playing", marks[0] + settle, marks[1] - settle, true),
            ("paused", marks[1] + settle, marks[2] - settle, false),
            ("unpaused", marks[2] + settle, marks[3] - settle, true),
            (
                "stopped",
                marks[3] + settle,
                marks[3] + Duration::from_millis(900),
                false,
            ),
        ];
        assert_levels(&media, &pbx, &windows);
        let report = report_of(&client, &pbx);
        assert_eq!(
            report["states"],
            serde_json::json!(["paused", "playing"]),
            "{report}"
        );
        assert_eq!(report["finished"], "done", "{report}");
        let run = caller.join().unwrap();
        assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
    });
    common::assert_no_leftovers(&pbx);
}

/// A request to `path` with the test's full account and the response's body bytes.
fn fetch(pbx: &Pbx, method: &str, path: &str) -> (u16, Vec<u8>) {
    let url = format!("{}{path}", pbx.api);
    let request = ureq::request(method, &url)
        .timeout(Duration::from_secs(5))
        .set("Authorization", &format!("Basic {}", base64("app:secret")));
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{method} {path}: {error}"),
    };
    let status = response.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut body).unwrap();
    (status, body)
}

#[test]
fn an_ari_client_application_records_its_caller_plays_music_on_hold_holds_it_and_plays_to_a_bridge()
{
    require_program("node");
    let recordings = tempfile::tempdir().unwrap();
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: format!(
            "[dialplan]\nrecordings_dir = \"{}\"\n\n{USERS}",
            recordings.path().display()
        ),
        ..PbxOptions::default()
    });
    let mut node = Command::new("node");
    node.arg(fixture("ari/record.js"))
        .args([pbx.api.as_str(), "app", "secret", "demo", "ari-take"])
        .env("NODE_PATH", fixture("ari/node_modules"));
    let client = Client::spawn(node);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let media = RtpPeer::start();
    std::thread::scope(|s| {
        let caller =
            s.spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8003", media.port, &["-m", "1"]));
        let tone = media.stream_tone(ToneStream {
            freq: 440.0,
            ptime_ms: 20,
            duration: Duration::from_secs(25),
            pause: None,
        });
        let marks = marks_seen(
            &client,
            &pbx,
            &[
                "RECORDING",
                "RECORDED",
                "MOH",
                "MOH_STOPPED",
                "HELD",
                "UNHELD",
                "BRIDGE_PLAYING",
                "BRIDGE_PLAYED",
            ],
        );
        let settle = Duration::from_millis(300);
        let windows = [
            ("music on hold", marks[2] + settle, marks[3] - settle, true),
            (
                "after the music",
                marks[3] + settle,
                marks[4] - settle,
                false,
            ),
            ("on hold", marks[4] + settle, marks[5] - settle, true),
            ("off hold", marks[5] + settle, marks[6] - settle, false),
            (
                "the bridge's playback",
                marks[6] + settle,
                marks[7] - settle,
                true,
            ),
        ];
        assert_levels(&media, &pbx, &windows);
        let report = report_of(&client, &pbx);
        assert_eq!(report["recording"]["name"], "ari-take", "{report}");
        assert_eq!(report["recording"]["state"], "done", "{report}");
        assert_eq!(
            report["stored"],
            serde_json::json!(["ari-take"]),
            "{report}"
        );
        let bridge_target = report["bridgePlayback"].as_str().unwrap_or_default();
        assert!(bridge_target.starts_with("bridge:"), "{report}");
        let run = caller.join().unwrap();
        assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
        tone.join().unwrap();
    });
    let (status, wav) = fetch(&pbx, "GET", "/ari/recordings/stored/ari-take/file");
    assert_eq!(status, 200);
    let file = recordings.path().join("downloaded.wav");
    std::fs::write(&file, &wav).unwrap();
    let (samples, rate) = common::read_wav(&file);
    let secs = samples.len() as f64 / f64::from(rate);
    assert!((1.5..=2.6).contains(&secs), "{secs:.2} s recorded");
    let share = common::tone_share(&samples, rate, 440.0, 1_000.0);
    assert!(
        share > 0.8,
        "the caller's tone is {share:.2} of the recording"
    );
    assert_eq!(
        fetch(&pbx, "DELETE", "/ari/recordings/stored/ari-take").0,
        204
    );
    assert_eq!(fetch(&pbx, "GET", "/ari/recordings/stored/ari-take").0, 404);
    assert_eq!(fetch(&pbx, "GET", "/ari/recordings/live/ari-take").0, 404);
    common::assert_no_leftovers(&pbx);
}

#[test]
fn an_ari_client_application_originates_to_a_phone_with_a_chosen_id_and_plays_to_it() {
    require_program("node");
    let pbx = start();
    let mut phone = common::Baresip::answering(&pbx, "6001", "", None, 15);
    let mut node = Command::new("node");
    node.arg(fixture("ari/originate.js"))
        .args([
            pbx.api.as_str(),
            "app",
            "secret",
            "demo",
            "PJSIP/6001",
            "my-call-1",
        ])
        .env("NODE_PATH", fixture("ari/node_modules"));
    let client = Client::spawn(node);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let report = client
        .line(Duration::from_secs(30), |l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no report\n{}\n{}", pbx.log(), phone.log()));
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["id"], "my-call-1", "{report}");
    assert_eq!(
        report["args"],
        serde_json::json!(["from-originate"]),
        "{report}"
    );
    assert_eq!(report["variable"], "hello there", "{report}");
    let duplicate = report["duplicate"].as_str().unwrap_or_default();
    assert!(duplicate.contains("already exists"), "{report}");
    assert_eq!(report["played"], "done", "{report}");
    assert!(phone.wait_exit(Duration::from_secs(20)), "{}", phone.log());
    let recording = common::heard_recording(&phone)
        .unwrap_or_else(|| panic!("the phone recorded nothing\n{}", phone.log()));
    let (samples, _) = common::read_wav(&recording);
    let dbfs = common::rms_dbfs(&samples);
    assert!(
        dbfs > -35.0,
        "the phone heard {dbfs:.1} dBFS\n{}",
        pbx.log()
    );
    common::assert_no_leftovers(&pbx);
}

#[test]
fn an_aioari_conference_beeps_each_caller_in_three_callers_hear_each_other_and_mute_works() {
    require_program("python3");
    let pbx = start();
    let mut python = Command::new("python3");
    python.arg(fixture("ari/conference.py")).args([
        &format!("{}/", pbx.api),
        "app",
        "secret",
        "demo",
        "3",
    ]);
    let client = Client::spawn(python);
    let ready = client.line(Duration::from_secs(20), |l| l == "READY");
    assert_eq!(ready.as_deref(), Some("READY"), "{}", pbx.log());
    let peers = [RtpPeer::start(), RtpPeer::start(), RtpPeer::start()];
    let freqs = [440.0, 1_000.0, 1_700.0];
    let pbx_ref = &pbx;
    std::thread::scope(|s| {
        let calls: Vec<_> = peers
            .iter()
            .map(|peer| {
                s.spawn(move || {
                    call_as_6001(
                        pbx_ref,
                        "sipp/uac_call.xml",
                        "8003",
                        peer.port,
                        &["-m", "1"],
                    )
                })
            })
            .collect();
        let tones: Vec<_> = peers
            .iter()
            .zip(freqs)
            .map(|(peer, freq)| {
                peer.stream_tone(ToneStream {
                    freq,
                    ptime_ms: 20,
                    duration: Duration::from_secs(15),
                    pause: None,
                })
            })
            .collect();
        let all_in = client.line(Duration::from_secs(30), |l| l == "ALL_IN");
        assert!(all_in.is_some(), "not everyone joined\n{}", pbx.log());
        let window = || {
            std::thread::sleep(Duration::from_millis(800));
            let from = Instant::now();
            std::thread::sleep(Duration::from_millis(2_000));
            (from, Instant::now())
        };
        // hears[n][m]: caller n hears caller m's tone (well above its own, which it never gets).
        let hearing = |(from, to): (Instant, Instant)| -> Vec<Vec<bool>> {
            peers
                .iter()
                .enumerate()
                .map(|(n, peer)| {
                    let own = heard_power(peer, from, to, freqs[n]);
                    (0..3)
                        .map(|m| {
                            let other = heard_power(peer, from, to, freqs[m]);
                            m != n && other > 1e-4 && own * 100.0 < other
                        })
                        .collect()
                })
                .collect()
        };
        let before = hearing(window());
        for (n, heard) in before.iter().enumerate() {
            for m in (0..3).filter(|m| *m != n) {
                assert!(
                    heard[m],
                    "caller {n} does not hear caller {m}: {before:?}\n{}",
                    pbx.log()
                );
            }
        }
        let muted = client.line(Duration::from_secs(10), |l| l == "MUTED");
        assert!(muted.is_some(), "the app muted nobody\n{}", pbx.log());
        let after = hearing(window());
        // The caller muted out hears nobody; the one muted in is heard by nobody.
        let deaf: Vec<usize> = (0..3).filter(|n| after[*n].iter().all(|h| !h)).collect();
        assert_eq!(deaf.len(), 1, "one caller hears nothing: {after:?}");
        let silent: Vec<usize> = (0..3)
            .filter(|m| (0..3).all(|n| !after[n][*m]))
            .filter(|m| !deaf.contains(m))
            .collect();
        assert_eq!(silent.len(), 1, "one caller is heard by nobody: {after:?}");
        for n in (0..3).filter(|n| !deaf.contains(n)) {
            assert!(
                after[n][deaf[0]],
                "caller {n} still hears the deaf caller: {after:?}"
            );
        }
        let report = client
            .line(Duration::from_secs(20), |l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("no report\n{}", pbx.log()));
        let report: Value = serde_json::from_str(&report).unwrap();
        assert_eq!(report["most_members"], 3, "{report}");
        let playbacks = report["bridge_playbacks"].as_array().unwrap();
        let finished = playbacks
            .iter()
            .filter(|p| p[0] == "PlaybackFinished" && p[1] == "done")
            .count();
        assert_eq!(finished, 3, "a beep for each caller: {report}");
        for tone in tones {
            tone.join().unwrap();
        }
        for call in calls {
            let run = call.join().unwrap();
            assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
        }
    });
    common::assert_no_leftovers(&pbx);
}
