//! The shipped scale-out deployment (`deploy/`: Kamailio in front of two pbx nodes, see
//! `tests/common/cluster.rs`): calls from phones registered with Kamailio are spread over
//! both nodes (each node's event stream shows its share, every event and channel id naming
//! the node), each caller hears the node's prompt, and a call between two phones goes
//! through a node, both its legs there naming the caller 6001, with audio both ways.
//! Failover is in `cluster_failover.rs`, draining in `cluster_drain.rs`.

mod common;

use std::time::Duration;

use common::cluster::{calls_hear_hello_world, Cluster};
use common::events::{count, EventStream};
use common::{heard_recording, read_wav, tone_file, tone_share, wait_until};

#[test]
fn ten_calls_to_8000_are_spread_over_both_nodes_and_every_caller_hears_the_prompt() {
    let cluster = Cluster::start(0);
    calls_hear_hello_world(&cluster, 10);
    let shares: Vec<u64> = cluster.nodes.iter().map(|n| n.calls_total()).collect();
    assert_eq!(
        shares.iter().sum::<u64>(),
        10,
        "{shares:?}\n{}",
        cluster.front.log()
    );
    assert!(
        shares.iter().all(|&share| share >= 3),
        "round-robin gave the nodes {shares:?} of 10 calls\n{}",
        cluster.front.log()
    );
    for (node, share) in cluster.nodes.iter().zip(shares) {
        let mut events = EventStream::connect(&node.pbx().api, Some(0));
        let created = |events: &[serde_json::Value]| count(events, "ChannelCreated") as u64;
        assert!(
            events.read_until(Duration::from_secs(5), |e| created(e) == share),
            "{} streamed {} ChannelCreated for its {share} calls",
            node.name,
            created(&events.received)
        );
        let prefix = format!("{}-", node.name);
        for event in &events.received {
            assert_eq!(event["node"], node.name.as_str(), "{event}");
            if let Some(id) = event["channel"]["id"].as_str() {
                assert!(id.starts_with(&prefix), "{} published {event}", node.name);
            }
        }
    }
}

#[test]
fn a_phone_calls_another_through_a_node_with_audio_both_ways() {
    let cluster = Cluster::start(0);
    let tones = tempfile::tempdir().unwrap();
    let (low, high) = (tone_file(tones.path(), 440), tone_file(tones.path(), 1000));
    let (mut caller, mut callee) = cluster.phones(&low, &high, (7, 14));
    let mut legs = Vec::new();
    wait_until(Duration::from_secs(10), || {
        legs = cluster
            .nodes
            .iter()
            .flat_map(|n| {
                n.pbx()
                    .get("/api/channels")
                    .unwrap()
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        legs.len() == 2
    });
    assert_eq!(
        legs.len(),
        2,
        "the call's two legs are not on a node: {legs:?}"
    );
    for leg in &legs {
        assert_eq!(leg["caller"]["number"], "6001", "{leg}");
    }
    assert!(
        caller.wait_exit(Duration::from_secs(20)),
        "caller did not finish\n{}",
        caller.log()
    );
    assert!(
        callee.wait_exit(Duration::from_secs(15)),
        "callee did not finish\n{}",
        callee.log()
    );
    let shares: Vec<u64> = cluster.nodes.iter().map(|n| n.calls_total()).collect();
    assert_eq!(
        shares.iter().sum::<u64>(),
        1,
        "{shares:?}\n{}",
        cluster.front.log()
    );
    for (phone, hears, not) in [(&caller, 1000.0, 440.0), (&callee, 440.0, 1000.0)] {
        let recording = heard_recording(phone).unwrap_or_else(|| {
            panic!("nothing recorded\n{}\n{}", phone.log(), cluster.front.log())
        });
        let (samples, rate) = read_wav(&recording);
        let share = tone_share(&samples, rate, hears, not);
        assert!(
            share > 0.5,
            "heard {hears} Hz in {:.0} % of {} s\n{}",
            share * 100.0,
            samples.len() / rate as usize,
            cluster.front.log()
        );
    }
}
