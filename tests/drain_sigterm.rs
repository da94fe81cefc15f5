//! SIGTERM with `[node] drain_grace_secs`: the pbx drains instead of hanging up at once. A
//! call in progress (a SIPp caller in conference 8002, which never ends by itself) stays up
//! while OPTIONS, a new INVITE and an originate get 503 and `pbx ctl health` says
//! "draining"; once the grace period is over the pbx hangs the call up with BYE and exits
//! cleanly. A second SIGTERM does that at once.

mod common;

use std::time::{Duration, Instant};

use common::kamailio::options_status;
use common::{call_as_6001, exchange, wait_until, Pbx, PbxOptions, RtpPeer};

const GRACE_SECS: u64 = 4;

#[test]
fn sigterm_keeps_the_call_for_the_grace_period_and_refuses_new_ones() {
    let mut pbx = Pbx::start_with(PbxOptions {
        extra_config: format!("[node]\nname = \"solo\"\ndrain_grace_secs = {GRACE_SECS}\n"),
        ..PbxOptions::default()
    });
    let media = RtpPeer::start();
    let (call, hung_up_at) = std::thread::scope(|scope| {
        let caller = scope.spawn(|| {
            let run = call_as_6001(&pbx, "sipp/uac_call.xml", "8002", media.port, &["-m", "1"]);
            (run, Instant::now())
        });
        let up = wait_until(Duration::from_secs(10), || {
            pbx.get("/api/channels")
                .is_ok_and(|c| c.as_array().is_some_and(|c| c.len() == 1))
        });
        assert!(up, "the call did not come up\n{}", pbx.log());
        let channel = &pbx.get("/api/channels").unwrap()[0];
        assert!(
            channel["id"].as_str().unwrap().starts_with("solo-"),
            "channel ids carry the node name: {channel}"
        );

        pbx.sigterm();
        let sent = Instant::now();
        let draining = wait_until(Duration::from_secs(2), || {
            pbx.get("/api/health")
                .is_ok_and(|h| h["status"] == "draining")
        });
        assert!(draining, "{}", pbx.log());
        let health = pbx.ctl(&["health"]);
        assert!(String::from_utf8_lossy(&health.stdout).starts_with("draining"));
        assert_eq!(options_status(pbx.sip, Duration::from_secs(2)), Some(503));
        let invite = format!(
            "INVITE sip:8000@{sip} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKdrain1;rport\r\n\
             From: <sip:6001@{sip}>;tag=drain\r\n\
             To: <sip:8000@{sip}>\r\n\
             Call-ID: drain-1@127.0.0.1\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:6001@127.0.0.1:5999>\r\n\
             Max-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n",
            sip = pbx.sip
        );
        let replies = exchange(pbx.sip, &[invite.as_bytes()], Duration::from_millis(800));
        assert!(
            replies.iter().any(|r| r.starts_with("SIP/2.0 503")),
            "a new call during the drain got {replies:?}"
        );
        assert!(
            sent.elapsed() < Duration::from_secs(GRACE_SECS),
            "the checks outlasted the grace period"
        );
        let originate = pbx.post(
            "/api/originate",
            serde_json::json!({"endpoint": "endpoint/6002", "exten": "8000"}),
        );
        assert!(
            originate.as_ref().is_err_and(|e| e.starts_with("503")),
            "an originate during the drain got {originate:?}"
        );
        assert_eq!(pbx.get("/api/stats").unwrap()["calls_active"], 1);
        let (run, at) = caller.join().unwrap();
        (run, at.duration_since(sent))
    });
    assert_eq!(
        (call.successful, call.failed),
        (1, 0),
        "the call was not ended with BYE:\n{}\n{}",
        call.stdout,
        pbx.log()
    );
    assert!(
        hung_up_at >= Duration::from_secs(GRACE_SECS - 1),
        "the call was hung up {hung_up_at:?} after SIGTERM, before the grace period"
    );
    let exited = pbx.wait_exit(Duration::from_secs(10));
    assert!(
        exited.is_some_and(|s| s.success()),
        "pbx did not exit cleanly: {exited:?}\n{}",
        pbx.log()
    );
    assert!(media.packets().len() > 50, "the call had no media");
}

#[test]
fn a_second_sigterm_during_the_drain_stops_at_once() {
    let mut pbx = Pbx::start_with(PbxOptions {
        extra_config: "[node]\ndrain_grace_secs = 60\n".into(),
        ..PbxOptions::default()
    });
    let media = RtpPeer::start();
    let (call, sent) = std::thread::scope(|scope| {
        let caller = scope
            .spawn(|| call_as_6001(&pbx, "sipp/uac_call.xml", "8002", media.port, &["-m", "1"]));
        let up = wait_until(Duration::from_secs(10), || {
            pbx.get("/api/stats").is_ok_and(|s| s["calls_active"] == 1)
        });
        assert!(up, "the call did not come up\n{}", pbx.log());
        pbx.sigterm();
        let draining = wait_until(Duration::from_secs(2), || {
            pbx.get("/api/health")
                .is_ok_and(|h| h["status"] == "draining")
        });
        assert!(draining, "{}", pbx.log());
        let sent = Instant::now();
        pbx.sigterm();
        (caller.join().unwrap(), sent)
    });
    let exited = pbx.wait_exit(Duration::from_secs(10));
    let stopped_after = sent.elapsed();
    assert!(
        exited.is_some_and(|s| s.success()),
        "{exited:?}\n{}",
        pbx.log()
    );
    assert!(
        stopped_after < Duration::from_secs(5),
        "the second SIGTERM took {stopped_after:?}"
    );
    assert_eq!(
        (call.successful, call.failed),
        (1, 0),
        "the call was not ended with BYE:\n{}",
        call.stdout
    );
}
