//! The cluster's compose file (`deploy/docker-compose.cluster.yml`), checked without a Docker
//! engine: `docker-compose config` validates it, each node's stop signal is SIGTERM and its
//! stop timeout outlasts its drain grace period, the nodes' SIP addresses are the shipped
//! dispatcher list's, they trust and route through Kamailio's address, and their RTP ranges
//! are published 1:1 without overlapping.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::require_program;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The services of `docker-compose config`'s output: name -> its lines, trimmed.
fn services(config: &str) -> BTreeMap<String, Vec<String>> {
    let mut services = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_services = false;
    for line in config.lines() {
        if !line.starts_with(' ') {
            in_services = line == "services:";
            current = None;
            continue;
        }
        if in_services {
            if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
                if !name.starts_with(' ') {
                    current = Some(name.to_string());
                    continue;
                }
            }
        }
        if let Some(name) = &current {
            services
                .entry(name.clone())
                .or_insert_with(Vec::new)
                .push(line.trim().to_string());
        }
    }
    services
}

/// The value of `key: value` among a service's lines.
fn value<'a>(lines: &'a [String], key: &str) -> &'a str {
    let prefix = format!("{key}: ");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {lines:#?}"))
}

#[test]
fn the_cluster_compose_file_agrees_with_the_node_config_and_the_dispatcher_list() {
    let out = Command::new(require_program("docker-compose"))
        .args(["-f", "docker-compose.cluster.yml", "config"])
        .current_dir(Path::new(REPO).join("deploy"))
        .env("EXTERNAL_IP", "192.0.2.10")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let services = services(&text);
    let kamailio = &services["kamailio"];
    let proxy_ip = value(kamailio, "ipv4_address");
    assert!(
        kamailio
            .iter()
            .any(|l| l.contains(&format!("udp:{proxy_ip}:5060/192.0.2.10:5060"))),
        "kamailio does not listen on its address advertising EXTERNAL_IP: {kamailio:#?}"
    );
    let dispatcher =
        std::fs::read_to_string(Path::new(REPO).join("deploy/kamailio/dispatcher.list")).unwrap();
    let mut ranges = Vec::new();
    for name in ["pbx-a", "pbx-b"] {
        let node = &services[name];
        assert_eq!(value(node, "NODE_NAME"), name);
        assert_eq!(value(node, "stop_signal"), "SIGTERM");
        let grace: u64 = value(node, "DRAIN_GRACE_SECS").parse().unwrap();
        let stop: u64 = value(node, "stop_grace_period")
            .strip_suffix('s')
            .and_then(|s| s.parse().ok())
            .expect("stop_grace_period in seconds");
        assert!(
            stop > grace,
            "{name}: docker kills at {stop} s, the drain lasts {grace} s"
        );
        let sip = value(node, "SIP_BIND");
        assert!(
            sip.starts_with(value(node, "ipv4_address")),
            "{name} binds {sip}"
        );
        assert!(
            dispatcher
                .lines()
                .any(|l| l.starts_with("1 ") && l.contains(&format!("sip:{sip} "))),
            "{name} ({sip}) is not in the dispatcher list:\n{dispatcher}"
        );
        assert_eq!(value(node, "PROXY_URI"), format!("sip:{proxy_ip}:5060"));
        assert_eq!(value(node, "PROXY_NETWORK"), format!("{proxy_ip}/32"));
        let min: u16 = value(node, "RTP_PORT_MIN").parse().unwrap();
        let max: u16 = value(node, "RTP_PORT_MAX").parse().unwrap();
        let published: Vec<u16> = node
            .iter()
            .filter_map(|l| l.strip_prefix("published: "))
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(published, (min..=max).collect::<Vec<_>>(), "{name}");
        ranges.push(min..=max);
    }
    assert!(
        ranges[0].end() < ranges[1].start() || ranges[1].end() < ranges[0].start(),
        "the nodes' RTP ranges overlap: {ranges:?}"
    );
}
