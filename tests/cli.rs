//! The command line: `check-config` prints OK or the error with file:line:col and exits
//! non-zero; `run` refuses a bad file with the same message.

use std::process::Command;

fn pbx(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pbx"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn shipped_and_embedded_configs_check_ok() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config/pbx.toml");
    let out = pbx(&["check-config", shipped]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK (2 endpoint(s)"));
    let out = pbx(&["check-config"]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn bad_config_is_reported_with_position_by_check_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[sip]\nbind = \"127.0.0.1:5060\"\n\n[rtp]\nport_min = 20000\nport_max = 10000\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let out = pbx(&["check-config", path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{path}:6:12: rtp port range is inverted")),
        "{err}"
    );

    let out = pbx(&["run", "--config", path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to start"), "{err}");
    assert!(err.contains(&format!("{path}:6:12:")), "{err}");
}

#[test]
fn missing_environment_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.toml");
    std::fs::write(&path, "[sip]\nbind = \"${PBX_TEST_SURELY_UNSET}\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pbx"))
        .args(["check-config", path.to_str().unwrap()])
        .env_remove("PBX_TEST_SURELY_UNSET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":2:9: environment variable PBX_TEST_SURELY_UNSET is not set"),
        "{err}"
    );
}
