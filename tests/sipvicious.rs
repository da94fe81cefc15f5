//! SIPVicious (Debian's `sipvicious`) against the running pbx: with the scanner User-Agent
//! filter on (the default) `svmap` finds nothing; with it off, `svmap` finds pbx, and `svwar`
//! with REGISTER, INVITE and OPTIONS cannot tell the existing accounts (6001, 6002) from the
//! extensions around them that do not exist.

mod common;

use std::process::Command;

use common::{require_program, Pbx, PbxOptions};

fn run(program: &str, args: &[&str]) -> String {
    let path = require_program(program);
    let output = Command::new("timeout")
        .arg("60")
        .arg(path)
        .args(args)
        .output()
        .expect("run sipvicious");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

fn svmap(pbx: &Pbx) -> String {
    let port = pbx.sip.port().to_string();
    run("svmap", &["-p", &port, "127.0.0.1"])
}

#[test]
fn svmap_finds_nothing_while_scanners_are_filtered() {
    let pbx = Pbx::start();
    let found = svmap(&pbx);
    assert!(!found.contains("pbx/"), "{found}");
    let stats = pbx.get("/api/stats").unwrap();
    assert!(
        stats["sip"]["dropped_scanners"].as_u64().unwrap() > 0,
        "{stats}"
    );
}

#[test]
fn svwar_cannot_tell_accounts_apart() {
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: "[security]\nscanner_user_agents = []\n".into(),
        ..PbxOptions::default()
    });
    let found = svmap(&pbx);
    assert!(
        found.contains(&format!("127.0.0.1:{}", pbx.sip.port())) && found.contains("pbx/"),
        "{found}"
    );
    let port = pbx.sip.port().to_string();
    let range: Vec<String> = (5998..=6004).map(|n| n.to_string()).collect();
    for method in ["REGISTER", "INVITE", "OPTIONS"] {
        let report = run(
            "svwar",
            &[
                "--force",
                "-m",
                method,
                "-e",
                "5998-6004",
                "-p",
                &port,
                "127.0.0.1",
            ],
        );
        let listed: Vec<&String> = range
            .iter()
            .filter(|ext| report.contains(&format!("| {ext} ")))
            .collect();
        let accounts_listed = listed.iter().any(|ext| *ext == "6001" || *ext == "6002");
        assert!(
            !accounts_listed || listed.len() == range.len(),
            "{method}: svwar singled out {listed:?}\n{report}"
        );
    }
}
