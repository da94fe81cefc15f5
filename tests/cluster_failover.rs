//! Failover in the shipped deployment (Kamailio in front of two pbx nodes): once a node is
//! killed with SIGKILL, within the dispatcher's probing interval every new call lands on the
//! other node and succeeds; the killed node, restarted, is probed back into rotation and
//! gets calls again.

mod common;

use std::time::Duration;

use common::cluster::{calls_hear_hello_world, Cluster, PING_INTERVAL_SECS};
use common::wait_until;

#[test]
fn calls_go_to_the_surviving_node_and_the_restarted_one_comes_back() {
    let mut cluster = Cluster::start(0);
    let (a, b) = (cluster.nodes[0].sip, cluster.nodes[1].sip);
    cluster.nodes[0].kill();
    let probe_window = Duration::from_secs(PING_INTERVAL_SECS * 3 + 2);
    let marked = wait_until(probe_window, || {
        cluster
            .front
            .node_flags(a)
            .is_some_and(|f| f.starts_with('I'))
    });
    assert!(
        marked,
        "the killed node is still {:?}\n{}",
        cluster.front.node_flags(a),
        cluster.front.log()
    );
    let before = cluster.nodes[1].calls_total();
    calls_hear_hello_world(&cluster, 4);
    assert_eq!(
        cluster.nodes[1].calls_total() - before,
        4,
        "{}",
        cluster.front.log()
    );
    assert_eq!(
        cluster.front.node_flags(b).as_deref().map(|f| &f[..1]),
        Some("A")
    );

    cluster.nodes[0].restart();
    let back = wait_until(probe_window, || {
        cluster
            .front
            .node_flags(a)
            .is_some_and(|f| f.starts_with('A'))
    });
    assert!(
        back,
        "the restarted node is still {:?}\n{}",
        cluster.front.node_flags(a),
        cluster.front.log()
    );
    calls_hear_hello_world(&cluster, 4);
    let restarted = cluster.nodes[0].calls_total();
    assert!(
        restarted >= 1,
        "the restarted node got {restarted} of 4 calls\n{}",
        cluster.front.log()
    );
}
