//! The operator CLI against a running pbx: endpoints, SIP trace on and off with a filter,
//! calls, trunks and version, as tables and as JSON.

mod common;

use common::{fixture, sipp, Pbx, PASSWORD};

fn stdout(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn endpoints_lists_accounts_and_their_registrations() {
    let pbx = Pbx::start();
    let run = sipp(
        &fixture("sipp/register.xml"),
        pbx.sip,
        &["-s", "6002", "-au", "6002", "-ap", PASSWORD, "-m", "1"],
    );
    assert_eq!(run.successful, 1, "{}", run.stdout);
    let table = stdout(&pbx.ctl(&["endpoints"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ENDPOINT"), "{table}");
    assert!(
        lines[1].starts_with("6001") && lines[1].ends_with("0/3"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("6002") && lines[2].ends_with("1/3"),
        "{table}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&pbx.ctl(&["--json", "endpoints"]))).unwrap();
    assert_eq!(json[1]["codecs"], serde_json::json!(["PCMU", "PCMA"]));
}

#[test]
fn sip_trace_logs_whole_messages_for_the_filtered_user_only() {
    let pbx = Pbx::start();
    assert!(
        stdout(&pbx.ctl(&["sip", "trace", "on", "--filter", "6002"]))
            .contains("SIP trace on for 6002")
    );
    let register = |user: &str| {
        sipp(
            &fixture("sipp/register.xml"),
            pbx.sip,
            &["-s", user, "-au", user, "-ap", PASSWORD, "-m", "1"],
        )
    };
    assert_eq!(register("6002").successful, 1);
    assert_eq!(register("6001").successful, 1);
    let log = pbx.log();
    assert!(
        log.contains("received from 127.0.0.1:") && log.contains("REGISTER sip:"),
        "{log}"
    );
    assert!(
        log.contains("sent to 127.0.0.1:") && log.contains("SIP/2.0 200 OK"),
        "{log}"
    );
    assert!(log.contains("<sip:6002@"), "{log}");
    assert!(
        !log.contains("<sip:6001@"),
        "the filter let 6001 through\n{log}"
    );
    assert!(stdout(&pbx.ctl(&["sip", "trace", "off"])).contains("off"));
}

#[test]
fn channels_bridges_trunks_and_version_answer() {
    let pbx = Pbx::start();
    assert!(stdout(&pbx.ctl(&["channels"])).contains("0 active channel(s)"));
    assert!(stdout(&pbx.ctl(&["bridges"])).contains("0 active bridge(s)"));
    assert!(stdout(&pbx.ctl(&["trunks"])).starts_with("TRUNK"));
    assert!(stdout(&pbx.ctl(&["version"])).contains(env!("CARGO_PKG_VERSION")));
    let missing = pbx.ctl(&["hangup", "999"]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    let missing = pbx.ctl(&["hangup", "PJSIP/6001-00000000"]);
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
}

#[test]
fn dialplan_apps_lists_every_app_with_its_syntax() {
    let pbx = Pbx::start();
    let table = stdout(&pbx.ctl(&["dialplan", "apps"]));
    for syntax in ["Dial(target", "Record(", "Stasis(", "Playback("] {
        assert!(
            table.lines().any(|l| l.starts_with(syntax)),
            "{syntax}: {table}"
        );
    }
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&pbx.ctl(&["--json", "dialplan", "apps"]))).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(
        names.contains(&"ConfBridge") && names.contains(&"AGI"),
        "{names:?}"
    );
}
