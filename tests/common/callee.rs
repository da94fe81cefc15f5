//! A SIPp callee registered as 6002: SIPp keys every call on its Call-ID, so one SIPp call
//! cannot both REGISTER and receive the PBX's INVITE (which has a Call-ID of its own). The
//! callee is therefore two SIPp runs on the same port, one after the other: `register.xml`
//! registers 6002 from that port, then a server-mode `uas_*.xml` scenario listens on it for
//! the INVITEs the PBX sends there. The pbx should not qualify contacts meanwhile: an OPTIONS
//! reaching a server-mode SIPp callee would start a call it does not expect.

use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use super::{call_as_6001, fixture, free_port, sipp, wait_until, Pbx, SippRun, PASSWORD};

/// Registers 6002 from a fresh port with `register.xml`; the callee SIPp then listens there.
pub fn register_6002(pbx: &Pbx) -> u16 {
    let port = free_port();
    let port_arg = port.to_string();
    let args = [
        "-s", "6002", "-au", "6002", "-ap", PASSWORD, "-m", "1", "-p", &port_arg,
    ];
    let run = sipp(&fixture("sipp/register.xml"), pbx.sip, &args);
    run.assert_succeeded(1, pbx);
    let contact = format!("127.0.0.1:{port}");
    let registered = pbx
        .registrations()
        .iter()
        .any(|r| r.to_string().contains(&contact));
    assert!(registered, "{:?}", pbx.registrations());
    port
}

/// Whether some socket is bound to UDP `port` on 127.0.0.1 (from /proc, without binding).
pub fn udp_bound(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .any(|line| line.split_whitespace().nth(1) == Some(local.as_str()))
}

/// Runs the callee `scenario` on `port` (where 6002 registered) in a thread, once it listens.
pub fn start_callee<'scope>(
    scope: &'scope Scope<'scope, '_>,
    pbx: &'scope Pbx,
    scenario: &str,
    port: u16,
    extra: &'scope [&'scope str],
) -> ScopedJoinHandle<'scope, SippRun> {
    let scenario = fixture(scenario);
    let callee = scope.spawn(move || {
        let port = port.to_string();
        let mut args = vec!["-p", port.as_str()];
        args.extend_from_slice(extra);
        sipp(&scenario, pbx.sip, &args)
    });
    assert!(
        wait_until(Duration::from_secs(10), || udp_bound(port)),
        "callee SIPp did not bind port {port}"
    );
    callee
}

/// Runs the callee `callee` (SIPp scenario and arguments) on `port`, where 6002 registered,
/// and meanwhile the caller `caller` (scenario, media port, arguments) dialling 6002 as 6001;
/// returns both runs, callee first.
pub fn dial_6002(
    pbx: &Pbx,
    port: u16,
    callee: (&str, &[&str]),
    caller: (&str, u16, &[&str]),
) -> (SippRun, SippRun) {
    std::thread::scope(|s| {
        let callee_run = start_callee(s, pbx, callee.0, port, callee.1);
        let caller_run = call_as_6001(pbx, caller.0, "6002", caller.1, caller.2);
        (callee_run.join().unwrap(), caller_run)
    })
}
