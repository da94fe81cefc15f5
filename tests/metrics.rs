//! `GET /metrics` against real peers: after SIPp registrations and a call to 8000 Debian's
//! `promtool check metrics` accepts the page; a real Prometheus, started here with a token in
//! its scrape config, scrapes pbx and a PromQL query over its HTTP API counts the registered
//! contacts; the call, SIP and RTP counters move as calls happen (SIPp's, and baresip's
//! audio with its jitter), an unanswered call counts as failed with its cause, a call from a
//! trunk on that trunk; without the token the page is refused; and every metric the Grafana
//! dashboard under `deploy/grafana/` queries is one pbx exports.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{
    call_as_6001, fixture, free_tcp_port, prompt_ulaw, require_program, sipp, wait_until,
    write_file, Baresip, BaresipOptions, Pbx, PbxOptions, RtpPeer, PASSWORD,
};

/// The page `GET /metrics` serves now.
fn scrape(pbx: &Pbx) -> String {
    let response = pbx.request("GET", "/metrics").call().expect("GET /metrics");
    let kind = response
        .header("Content-Type")
        .unwrap_or_default()
        .to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.into_string().unwrap()
}

/// Every sample of a page, keyed by its series as written (`name{label="value"}`).
fn samples(page: &str) -> HashMap<String, f64> {
    page.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

/// The value of `series` on `page`; fails when the page lacks it.
fn value(page: &str, series: &str) -> f64 {
    *samples(page)
        .get(series)
        .unwrap_or_else(|| panic!("{series} is not on the page:\n{page}"))
}

/// The metric families a page declares (`# TYPE` lines).
fn families(page: &str) -> BTreeSet<String> {
    page.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn register(pbx: &Pbx, user: &str) {
    let run = sipp(
        &fixture("sipp/register.xml"),
        pbx.sip,
        &["-s", user, "-au", user, "-ap", PASSWORD, "-m", "1"],
    );
    run.assert_succeeded(1, pbx);
}

fn call_8000(pbx: &Pbx) {
    let media = RtpPeer::start();
    let run = call_as_6001(pbx, "sipp/uac_call.xml", "8000", media.port, &["-m", "1"]);
    run.assert_succeeded(1, pbx);
}

#[test]
fn promtool_accepts_the_page_after_registrations_and_a_call() {
    let promtool = require_program("promtool");
    let pbx = Pbx::start();
    register(&pbx, "6001");
    register(&pbx, "6002");
    call_8000(&pbx);
    let page = scrape(&pbx);
    assert!(families(&page).len() >= 30, "{page}");
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool refused the page:\n{}{}\n{page}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Prometheus server of its own (config and storage in a temporary directory), stopped on
/// drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrapes `target` (`host:port`) every second, sending `token` as a Bearer token.
    fn start(target: &str, token: &str) -> Prometheus {
        let binary = require_program("prometheus");
        let dir = tempfile::tempdir().unwrap();
        let config = write_file(
            dir.path(),
            "prometheus.yml",
            &format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: pbx\n    authorization:\n      credentials: {token}\n\
                 \x20   static_configs:\n      - targets: ['{target}']\n"
            ),
        );
        let port = free_tcp_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The single value an instant PromQL query returns, when it returns one.
    fn query(&self, promql: &str) -> Option<f64> {
        let answer: serde_json::Value = ureq::get(&format!("{}/api/v1/query", self.url))
            .query("query", promql)
            .timeout(Duration::from_secs(2))
            .call()
            .ok()?
            .into_json()
            .ok()?;
        let result = answer["data"]["result"].as_array()?;
        match result.as_slice() {
            [one] => one["value"][1].as_str()?.parse().ok(),
            _ => None,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn prometheus_scrapes_pbx_with_its_token_and_promql_counts_the_registered_contacts() {
    let token = "scrape-secret";
    let pbx = Pbx::start_with(PbxOptions {
        api_token: Some(token.into()),
        ..PbxOptions::default()
    });
    register(&pbx, "6001");
    register(&pbx, "6002");
    let target = pbx.api.trim_start_matches("http://");
    let prometheus = Prometheus::start(target, token);
    let mut last = None;
    let counted = wait_until(Duration::from_secs(40), || {
        last = prometheus.query("sum(pbx_registered_contacts)");
        last == Some(2.0)
    });
    assert!(
        counted,
        "sum(pbx_registered_contacts) = {last:?}, up = {:?}\n{}",
        prometheus.query("up{job=\"pbx\"}"),
        prometheus.log()
    );
    assert_eq!(prometheus.query("pbx_registered_aors"), Some(2.0));
}

#[test]
fn call_and_sip_counters_move_when_a_call_to_8000_is_answered() {
    let pbx = Pbx::start();
    let before = scrape(&pbx);
    call_8000(&pbx);
    let answered = "pbx_calls_answered_total";
    let settled = wait_until(Duration::from_secs(5), || {
        let page = scrape(&pbx);
        value(&page, answered) > value(&before, answered) && value(&page, "pbx_calls_active") == 0.0
    });
    let after = scrape(&pbx);
    assert!(settled, "{after}\n{}", pbx.log());
    let moved = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(moved("pbx_calls_started_total"), 1.0);
    assert_eq!(moved(answered), 1.0);
    assert_eq!(moved("pbx_call_setup_seconds_count"), 1.0);
    // SIPp's INVITE (then again with its credentials after the 407), ACKs and the BYE pbx
    // sends when the prompt ends.
    let invites = r#"pbx_sip_requests_total{direction="received",method="INVITE"}"#;
    assert_eq!(moved(invites), 2.0);
    let byes = r#"pbx_sip_requests_total{direction="sent",method="BYE"}"#;
    assert_eq!(moved(byes), 1.0);
    let ok = r#"pbx_sip_responses_total{direction="sent",class="2xx"}"#;
    assert!(moved(ok) >= 1.0, "{after}");
    let challenges = r#"pbx_sip_responses_total{direction="sent",class="4xx"}"#;
    assert!(moved(challenges) >= 1.0, "{after}");
    // The prompt went out as 20 ms packets of 160 mu-law octets.
    let prompt = prompt_ulaw("hello-world").len() as f64;
    let played = r#"pbx_rtp_packets_total{direction="sent"}"#;
    assert!(moved(played) >= 0.9 * prompt / 160.0, "{after}");
    let octets = r#"pbx_rtp_bytes_total{direction="sent"}"#;
    assert!(moved(octets) >= 0.9 * prompt, "{after}");
    assert_eq!(moved(octets), 160.0 * moved(played), "{after}");
}

#[test]
fn rtp_from_a_baresip_phone_is_counted_and_its_jitter_observed_when_the_call_ends() {
    let pbx = Pbx::start();
    let mut phone = Baresip::start(
        pbx.sip,
        BaresipOptions {
            user: "6001",
            password: PASSWORD,
            account_params: "",
            audio_source: None,
            commands: &["/dial 8000"],
            quit_after_secs: Some(6),
        },
    );
    let jitter = "pbx_rtp_jitter_seconds_count";
    let ended = wait_until(Duration::from_secs(20), || {
        value(&scrape(&pbx), jitter) == 1.0
    });
    let page = scrape(&pbx);
    assert!(ended, "{page}\n{}\n{}", phone.log(), pbx.log());
    assert!(phone.wait_exit(Duration::from_secs(10)), "{}", phone.log());
    let received = value(&page, r#"pbx_rtp_packets_total{direction="received"}"#);
    assert!(received >= 25.0, "half a second of audio at least: {page}");
    let octets = value(&page, r#"pbx_rtp_bytes_total{direction="received"}"#);
    assert!(octets >= 160.0 * received * 0.9, "{page}");
    // Loopback delivers evenly: the phone's jitter is in the lowest buckets.
    let low = value(&page, r#"pbx_rtp_jitter_seconds_bucket{le="0.02"}"#);
    assert_eq!(low, 1.0, "{page}");
}

#[test]
fn a_bridged_call_between_two_phones_counts_the_rtp_of_both_legs() {
    let pbx = Pbx::start();
    let phone = |user, account_params, commands, quit_after_secs| {
        Baresip::start(
            pbx.sip,
            BaresipOptions {
                user,
                password: PASSWORD,
                account_params,
                audio_source: None,
                commands,
                quit_after_secs: Some(quit_after_secs),
            },
        )
    };
    let mut callee = phone("6002", ";answermode=auto", &[], 12);
    let registered = wait_until(Duration::from_secs(15), || !pbx.registrations().is_empty());
    assert!(registered, "6002 did not register\n{}", callee.log());
    let mut caller = phone("6001", "", &["/dial 6002"], 6);
    let jitter = "pbx_rtp_jitter_seconds_count";
    let ended = wait_until(Duration::from_secs(20), || {
        let page = scrape(&pbx);
        value(&page, jitter) == 2.0 && value(&page, "pbx_calls_active") == 0.0
    });
    let page = scrape(&pbx);
    assert!(ended, "{page}\n{}\n{}", caller.log(), pbx.log());
    assert!(
        caller.wait_exit(Duration::from_secs(10)),
        "{}",
        caller.log()
    );
    assert!(
        callee.wait_exit(Duration::from_secs(15)),
        "{}",
        callee.log()
    );
    assert_eq!(value(&page, "pbx_calls_answered_total"), 1.0);
    // Each packet one phone sends reaches pbx on its leg and leaves on the other's.
    let received = value(&page, r#"pbx_rtp_packets_total{direction="received"}"#);
    let sent = value(&page, r#"pbx_rtp_packets_total{direction="sent"}"#);
    assert!(received >= 100.0, "two phones talking for seconds: {page}");
    assert!((sent - received).abs() <= 0.1 * received, "{page}");
}

#[test]
fn an_unanswered_call_counts_as_failed_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let dialplan = write_file(
        dir.path(),
        "dialplan.toml",
        "[context.internal]\n\"7017\" = [\"Hangup(17)\"]\n",
    );
    let pbx = Pbx::start_in(
        dir,
        PbxOptions {
            extra_config: format!("[dialplan]\nfile = \"{}\"\n", dialplan.display()),
            ..PbxOptions::default()
        },
    );
    let media = RtpPeer::start();
    let run = call_as_6001(&pbx, "sipp/uac_busy.xml", "7017", media.port, &["-m", "1"]);
    run.assert_succeeded(1, &pbx);
    let busy = r#"pbx_calls_failed_total{cause="17"}"#;
    let counted = wait_until(Duration::from_secs(5), || {
        samples(&scrape(&pbx)).get(busy) == Some(&1.0)
    });
    let page = scrape(&pbx);
    assert!(counted, "{page}");
    assert_eq!(value(&page, "pbx_calls_started_total"), 1.0);
    assert_eq!(value(&page, "pbx_calls_answered_total"), 0.0);
    assert_eq!(value(&page, "pbx_call_setup_seconds_count"), 0.0);
}

#[test]
fn a_call_from_a_trunk_counts_on_that_trunk_with_its_state() {
    // An IP-authenticated provider: calls from 127.0.0.2 are the trunk's, nothing registers.
    let pbx = Pbx::start_with(PbxOptions {
        extra_config: format!(
            "[[trunk]]\nname = \"provider\"\nhost = \"127.0.0.1\"\nport = {}\n\
             register = false\nallow_from = [\"127.0.0.2/32\"]\n",
            common::free_port()
        ),
        ..PbxOptions::default()
    });
    let media = RtpPeer::start();
    let port = media.port.to_string();
    let run = common::sipp_from(
        "127.0.0.2",
        &fixture("sipp/provider_inbound_uac.xml"),
        pbx.sip,
        &[
            "-s", "5550100", "-m", "1", "-d", "700", "-key", "rtp_port", &port,
        ],
    );
    run.assert_succeeded(1, &pbx);
    let page = scrape(&pbx);
    let inbound = r#"pbx_trunk_calls_total{trunk="provider",direction="inbound"}"#;
    assert_eq!(value(&page, inbound), 1.0);
    let outbound = r#"pbx_trunk_calls_total{trunk="provider",direction="outbound"}"#;
    assert_eq!(value(&page, outbound), 0.0);
    let state = r#"pbx_trunk_state{trunk="provider",state="no registration"}"#;
    assert_eq!(value(&page, state), 1.0);
}

#[test]
fn with_an_api_token_the_page_needs_it() {
    let pbx = Pbx::start_with(PbxOptions {
        api_token: Some("s3cret".into()),
        ..PbxOptions::default()
    });
    let bare = ureq::get(&format!("{}/metrics", pbx.api))
        .timeout(Duration::from_secs(5))
        .call();
    assert!(matches!(bare, Err(ureq::Error::Status(401, _))), "{bare:?}");
    let page = scrape(&pbx);
    assert!(
        families(&page).contains("pbx_registered_contacts"),
        "{page}"
    );
}

/// The metric names a PromQL expression mentions: the `pbx_` and `process_` identifiers,
/// histogram series (`_bucket`, `_sum`, `_count`) named by their family.
fn metric_names(expr: &str, exported: &BTreeSet<String>) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        let word = &tail[..end];
        if word.starts_with("pbx_") || word.starts_with("process_") {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    word.strip_suffix(suffix)
                        .filter(|family| exported.contains(*family))
                })
                .unwrap_or(word);
            names.push(family.to_string());
        }
        rest = &tail[end..];
    }
    names
}

/// Every `expr` of a Grafana dashboard's panels (rows' nested panels included).
fn panel_exprs(panels: &serde_json::Value, out: &mut Vec<String>) {
    for panel in panels.as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                out.push(expr.to_string());
            }
        }
        panel_exprs(&panel["panels"], out);
    }
}

#[test]
fn every_metric_the_grafana_dashboard_queries_is_exported() {
    let pbx = Pbx::start();
    let exported = families(&scrape(&pbx));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/pbx.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut exprs = Vec::new();
    panel_exprs(&dashboard["panels"], &mut exprs);
    assert!(exprs.len() >= 10, "{exprs:?}");
    let mut queried = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(expr, &exported);
        assert!(!names.is_empty(), "{expr} queries no pbx metric");
        queried.extend(names);
    }
    let unknown: Vec<&String> = queried.difference(&exported).collect();
    assert!(unknown.is_empty(), "not exported: {unknown:?}");
}
