//! A real softphone (baresip) registers as 6001 with its password, and the operator sees it
//! with `pbx ctl registrations`.

mod common;

use std::time::Duration;

use common::{wait_until, Baresip, BaresipOptions, Pbx, PASSWORD};

#[test]
fn baresip_registers_and_ctl_lists_it() {
    let pbx = Pbx::start();
    let phone = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: None,
            commands: &[],
        },
    );
    let registered = wait_until(Duration::from_secs(15), || !pbx.registrations().is_empty());
    assert!(
        registered,
        "baresip did not register\n{}\n{}",
        phone.log(),
        pbx.log()
    );

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
