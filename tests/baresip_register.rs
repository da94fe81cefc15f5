//! A real softphone (baresip) registers as 6001 with its password, and the operator sees it
//! with `pbx ctl registrations`, including whether it answers the PBX's OPTIONS pings.

mod common;

use std::time::Duration;

use common::{wait_until, Baresip, BaresipOptions, Pbx, PbxOptions, PASSWORD};

#[test]
fn baresip_registers_and_ctl_lists_it() {
    let pbx = Pbx::start_with(PbxOptions {
        registrar: "min_expires = 60\nmax_expires = 3600\ndefault_expires = 600\nqualify_interval_secs = 1\n".into(),
        ..PbxOptions::default()
    });
    let phone = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: None,
            commands: &[],
            quit_after_secs: None,
        },
    );
    let registered = wait_until(Duration::from_secs(15), || !pbx.registrations().is_empty());
    assert!(
        registered,
        "baresip did not register\n{}\n{}",
        phone.log(),
        pbx.log()
    );

    // Qualify: the PBX pings the phone with OPTIONS and records that it answers.
    let reachable = wait_until(Duration::from_secs(10), || {
        pbx.registrations()[0]["reachability"] == "reachable"
    });
    assert!(reachable, "{:?}\n{}", pbx.registrations(), pbx.log());

    let out = pbx.ctl(&["registrations"]);
    assert!(out.status.success(), "{out:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("AOR"), "{table}");
    assert!(header.contains("USER AGENT"), "{table}");
    let row = lines.next().unwrap();
    assert!(row.starts_with("6001 "), "{table}");
    assert!(
        row.contains(&format!("127.0.0.1:{}", phone.port)),
        "{table}"
    );
    assert!(row.to_lowercase().contains("baresip"), "{table}");
    assert!(row.contains("reachable ("), "{table}");

    let json = pbx.ctl(&["--json", "registrations"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value[0]["aor"], "6001");
}

#[test]
fn ctl_reports_an_unreachable_pbx_with_exit_code_3() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pbx"))
        .args(["ctl", "--api", "http://127.0.0.1:9", "health"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the pbx admin API"), "{err}");
}
