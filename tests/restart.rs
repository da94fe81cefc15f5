//! Registrations survive a restart: they are saved on change and at shutdown, and loaded at
//! start with their remaining lifetime.

mod common;

use common::{fixture, sipp, Pbx, PbxOptions, PASSWORD};

#[test]
fn bindings_survive_a_restart() {
    let pbx = Pbx::start();
    let run = sipp(
        &fixture("sipp/register.xml"),
        pbx.sip,
        &["-s", "6002", "-au", "6002", "-ap", PASSWORD, "-m", "1"],
    );
    assert_eq!((run.successful, run.failed), (1, 0), "{}", run.stdout);
    let before = pbx.registrations();
    assert_eq!(before.len(), 1);
    let port = pbx.sip.port();
    let dir = pbx.stop();
    assert!(dir.path().join("registrations.json").exists());

    let restarted = Pbx::start_in(
        dir,
        PbxOptions {
            sip_port: Some(port),
            ..PbxOptions::default()
        },
    );
    let after = restarted.registrations();
    assert_eq!(after.len(), 1, "{}", restarted.log());
    assert_eq!(after[0]["aor"], "6002");
    assert_eq!(after[0]["contact"], before[0]["contact"]);
    let left = after[0]["expires_in"].as_u64().unwrap();
    assert!(
        left > 500 && left <= before[0]["expires_in"].as_u64().unwrap(),
        "{left}"
    );
}
