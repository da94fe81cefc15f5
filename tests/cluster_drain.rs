//! Draining a node of the shipped deployment (Kamailio in front of two pbx nodes): with a
//! call up on node A, `pbx ctl drain` on A makes it answer OPTIONS with 503 and `pbx ctl
//! health` say "draining"; new calls all go to B and succeed; A's call keeps its audio both
//! ways until the caller hangs up, and then A exits by itself.

mod common;

use std::time::Duration;

use common::cluster::{calls_hear_hello_world, Cluster};
use common::{heard_recording, read_wav, tone_file, tone_share, wait_until};

#[test]
fn a_draining_node_keeps_its_call_sends_new_ones_away_and_exits_when_idle() {
    let mut cluster = Cluster::start(0);
    let tones = tempfile::tempdir().unwrap();
    let (low, high) = (tone_file(tones.path(), 440), tone_file(tones.path(), 1000));
    let (mut caller, mut callee) = cluster.phones(&low, &high, (14, 25));
    let mut up = None;
    wait_until(Duration::from_secs(10), || {
        up = cluster.nodes.iter().position(|node| {
            let channels = node.pbx().get("/api/channels").unwrap();
            channels.as_array().is_some_and(|c| c.len() == 2)
        });
        up.is_some()
    });
    let a = up.unwrap_or_else(|| panic!("no node has the call\n{}", cluster.front.log()));
    let b = 1 - a;

    let drained = cluster.nodes[a].pbx().ctl(&["drain"]);
    assert!(drained.status.success(), "{drained:?}");
    let health = cluster.nodes[a].pbx().ctl(&["health"]);
    let health = String::from_utf8_lossy(&health.stdout).into_owned();
    assert!(health.starts_with("draining"), "pbx ctl health: {health}");
    assert_eq!(cluster.nodes[a].options_status(), Some(503));
    assert_eq!(cluster.nodes[b].options_status(), Some(200));

    let (a_before, b_before) = (
        cluster.nodes[a].calls_total(),
        cluster.nodes[b].calls_total(),
    );
    calls_hear_hello_world(&cluster, 3);
    assert_eq!(
        cluster.nodes[a].calls_total(),
        a_before,
        "{}",
        cluster.front.log()
    );
    assert_eq!(
        cluster.nodes[b].calls_total() - b_before,
        3,
        "{}",
        cluster.front.log()
    );

    assert!(
        caller.wait_exit(Duration::from_secs(25)),
        "caller did not finish\n{}",
        caller.log()
    );
    let pbx = cluster.nodes[a].pbx.as_mut().unwrap();
    let exited = pbx.wait_exit(Duration::from_secs(10));
    assert!(
        exited.is_some_and(|status| status.success()),
        "the drained node did not exit cleanly once idle: {exited:?}\n{}",
        pbx.log()
    );
    assert!(
        callee.wait_exit(Duration::from_secs(20)),
        "callee did not finish\n{}",
        callee.log()
    );
    for (phone, hears, not) in [(&caller, 1000.0, 440.0), (&callee, 440.0, 1000.0)] {
        let recording =
            heard_recording(phone).unwrap_or_else(|| panic!("nothing recorded\n{}", phone.log()));
        let (samples, rate) = read_wav(&recording);
        let share = tone_share(&samples, rate, hears, not);
        assert!(
            share > 0.6,
            "heard {hears} Hz in {:.0} % of {} s\n{}",
            share * 100.0,
            samples.len() / rate as usize,
            cluster.front.log()
        );
    }
}
