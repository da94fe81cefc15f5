//! The shipped scale-out deployment on loopback: Kamailio running
//! `deploy/kamailio/kamailio.cfg` on 127.0.0.10 in front of two pbx nodes running
//! `deploy/pbx-node.toml` on 127.0.0.11 and 127.0.0.12 (Linux routes all of 127.0.0.0/8 to
//! the loopback interface, so no namespace is needed). The dispatcher list is the shipped one
//! with its two node addresses replaced by the nodes' loopback addresses; the accounts are
//! the shipped `db/` (6001 and 6002, password `unsecurepassword`).
//!
//! Kamailio probes the nodes with OPTIONS every second ([`PING_INTERVAL_SECS`]) and gives a
//! node [`FR_TIMER_MS`] to answer an INVITE before trying the other.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::kamailio::{kamcmd, options_status, process_group_alive, require_program, wait_for};
use super::{
    call_as_6001_at, free_port, free_rtp_block, free_tcp_port, wait_until, Baresip, BaresipOptions,
    Pbx, RtpPeer, SippRun, PASSWORD,
};

/// Seconds between Kamailio's OPTIONS probes of the nodes.
pub const PING_INTERVAL_SECS: u64 = 1;
/// Milliseconds a node has to answer an INVITE before Kamailio tries the next.
pub const FR_TIMER_MS: u64 = 1000;
/// The addresses of the shipped dispatcher list (the compose file's node addresses).
const SHIPPED_NODES: [&str; 2] = ["172.28.0.11:5060", "172.28.0.12:5060"];

/// Path of a file of the shipped deployment.
pub fn deploy_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

/// Kamailio as the cluster's front proxy; stopped (its whole process group) on drop.
pub struct Front {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Where phones register and call.
    pub sip: SocketAddr,
}

impl Front {
    /// Starts Kamailio on `sip` dispatching to `nodes` and waits until it answers OPTIONS.
    /// Panics (never skips) when Kamailio is missing or does not come up.
    pub fn start(sip: SocketAddr, nodes: [SocketAddr; 2]) -> Front {
        let dir = tempfile::tempdir().expect("temporary directory for kamailio");
        let shipped = std::fs::read_to_string(deploy_file("kamailio/dispatcher.list")).unwrap();
        let mut list = shipped.clone();
        for (shipped_node, node) in SHIPPED_NODES.iter().zip(nodes) {
            assert!(
                list.contains(shipped_node),
                "the shipped dispatcher list has no {shipped_node}:\n{shipped}"
            );
            list = list.replace(shipped_node, &node.to_string());
        }
        let list_path = dir.path().join("dispatcher.list");
        std::fs::write(&list_path, list).unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        for table in ["subscriber", "version"] {
            std::fs::copy(deploy_file(&format!("kamailio/db/{table}")), db.join(table)).unwrap();
        }
        let log = std::fs::File::create(dir.path().join("kamailio.log")).unwrap();
        let child = Command::new(require_program("kamailio"))
            .arg("-f")
            .arg(deploy_file("kamailio/kamailio.cfg"))
            .arg("-l")
            .arg(format!("udp:{sip}"))
            .arg("-A")
            .arg(format!("DISPATCHER_LIST=\"{}\"", list_path.display()))
            .arg("-A")
            .arg(format!("DB_URL=\"text://{}\"", db.display()))
            .arg("-A")
            .arg(format!(
                "CTL_SOCKET=\"unixs:{}\"",
                dir.path().join("ctl.sock").display()
            ))
            .arg("-A")
            .arg(format!("PING_INTERVAL={PING_INTERVAL_SECS}"))
            .arg("-A")
            .arg(format!("FR_TIMER={FR_TIMER_MS}"))
            .arg("-Y")
            .arg(dir.path())
            .arg("-w")
            .arg(dir.path())
            .args(["-DD", "-E", "-m", "64", "-M", "8"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start kamailio");
        let mut front = Front {
            child: Some(child),
            dir,
            sip,
        };
        let up = wait_for(Duration::from_secs(15), || {
            options_status(sip, Duration::from_millis(300)) == Some(200)
                || front
                    .child
                    .as_mut()
                    .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))))
        });
        let exited = front.child.as_mut().map(|c| c.try_wait());
        assert!(
            up && matches!(exited, Some(Ok(None))),
            "kamailio did not come up on {sip}:\n{}",
            front.log()
        );
        front
    }

    /// Runs a kamcmd command (`ul.dump`, `dispatcher.list`) on this Kamailio.
    pub fn rpc(&self, command: &str) -> String {
        kamcmd(&self.dir.path().join("ctl.sock"), self.dir.path(), command)
            .unwrap_or_else(|error| panic!("{error}\n{}", self.log()))
    }

    /// Whether `user` has a registered contact, from `kamcmd ul.dump`.
    pub fn registered(&self, user: &str) -> bool {
        self.rpc("ul.dump")
            .lines()
            .any(|line| line.trim() == format!("AoR: {user}"))
    }

    /// The dispatcher's flags for `node` (`AP`: active; `IP`: inactive, probing), from
    /// `kamcmd dispatcher.list`.
    pub fn node_flags(&self, node: SocketAddr) -> Option<String> {
        let list = self.rpc("dispatcher.list");
        let uri = format!("URI: sip:{node}");
        let mut lines = list.lines().map(str::trim);
        lines.find(|line| *line == uri)?;
        lines
            .find_map(|line| line.strip_prefix("FLAGS: "))
            .map(str::to_string)
    }

    /// Kamailio's log: one `cluster: ...` line per request and routing decision.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kamailio.log")).unwrap_or_default()
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        if !wait_for(Duration::from_secs(5), || {
            matches!(child.try_wait(), Ok(Some(_)))
        }) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            let _ = child.wait();
        }
        wait_for(Duration::from_secs(5), || !process_group_alive(&pid));
    }
}

/// One pbx node: `deploy/pbx-node.toml` with its environment, restartable on the same ports.
pub struct Node {
    /// The running pbx, `None` after [`Node::kill`].
    pub pbx: Option<Pbx>,
    /// Its name (`[node] name`).
    pub name: String,
    /// Where its SIP listens.
    pub sip: SocketAddr,
    env: Vec<(String, String)>,
    api: String,
}

impl Node {
    /// Starts node `name` on `sip`, trusting and reaching phones through `front`, with
    /// `drain_grace_secs` for SIGTERM.
    pub fn start(name: &str, sip: SocketAddr, front: SocketAddr, drain_grace_secs: u64) -> Node {
        let api_port = free_tcp_port();
        let rtp = free_rtp_block();
        let env: Vec<(String, String)> = [
            ("NODE_NAME", name.to_string()),
            ("SIP_BIND", sip.to_string()),
            ("RTP_PORT_MIN", rtp.to_string()),
            ("RTP_PORT_MAX", (rtp + 39).to_string()),
            ("API_BIND", format!("127.0.0.1:{api_port}")),
            ("PROXY_URI", format!("sip:{front}")),
            ("PROXY_NETWORK", format!("{}/32", front.ip())),
            ("DRAIN_GRACE_SECS", drain_grace_secs.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut node = Node {
            pbx: None,
            name: name.to_string(),
            sip,
            env,
            api: format!("http://127.0.0.1:{api_port}"),
        };
        node.restart();
        node
    }

    /// Starts the node (again) with the same environment and ports.
    pub fn restart(&mut self) {
        let dir = tempfile::tempdir().unwrap();
        self.pbx = Some(Pbx::launch(
            dir,
            deploy_file("pbx-node.toml"),
            &self.env,
            self.sip,
            self.api.clone(),
            None,
        ));
    }

    /// The running pbx.
    pub fn pbx(&self) -> &Pbx {
        self.pbx.as_ref().expect("the node is running")
    }

    /// Kills the node with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut pbx) = self.pbx.take() {
            pbx.kill();
        }
    }

    /// Calls the node started, from its `/api/stats`.
    pub fn calls_total(&self) -> u64 {
        self.pbx().get("/api/stats").unwrap()["calls_total"]
            .as_u64()
            .unwrap()
    }

    /// The node's answer to an OPTIONS (200 while it takes calls, 503 while draining).
    pub fn options_status(&self) -> Option<u16> {
        options_status(self.sip, Duration::from_secs(2))
    }
}

/// Kamailio on 127.0.0.10 with nodes `pbx-a` on 127.0.0.11 and `pbx-b` on 127.0.0.12.
pub struct Cluster {
    /// The nodes, `pbx-a` first.
    pub nodes: [Node; 2],
    /// Kamailio (dropped last).
    pub front: Front,
}

impl Cluster {
    /// Starts both nodes (each answering OPTIONS with 200 once up), then Kamailio, which
    /// lists both as active from the start.
    pub fn start(drain_grace_secs: u64) -> Cluster {
        let front_sip = SocketAddr::from(([127, 0, 0, 10], free_port()));
        let a = SocketAddr::from(([127, 0, 0, 11], free_port()));
        let b = SocketAddr::from(([127, 0, 0, 12], free_port()));
        let nodes = [
            Node::start("pbx-a", a, front_sip, drain_grace_secs),
            Node::start("pbx-b", b, front_sip, drain_grace_secs),
        ];
        for node in &nodes {
            assert_eq!(
                node.options_status(),
                Some(200),
                "{} does not take calls",
                node.name
            );
        }
        let front = Front::start(front_sip, [a, b]);
        Cluster { nodes, front }
    }

    /// Two baresip phones registered with Kamailio: 6002 answering at once and playing
    /// `callee_audio`, then 6001 dialling it while playing `caller_audio`; they quit after
    /// `quit_after_secs` (caller's, callee's). Returns (caller, callee).
    pub fn phones(
        &self,
        caller_audio: &Path,
        callee_audio: &Path,
        quit_after_secs: (u32, u32),
    ) -> (Baresip, Baresip) {
        let callee = Baresip::start(
            self.front.sip,
            BaresipOptions {
                user: "6002",
                password: PASSWORD,
                account_params: ";answermode=auto",
                audio_source: Some(callee_audio),
                commands: &[],
                quit_after_secs: Some(quit_after_secs.1),
            },
        );
        assert!(
            wait_until(Duration::from_secs(15), || self.front.registered("6002")),
            "6002 did not register with Kamailio\n{}\n{}",
            callee.log(),
            self.front.log()
        );
        let caller = Baresip::start(
            self.front.sip,
            BaresipOptions {
                user: "6001",
                password: PASSWORD,
                account_params: "",
                audio_source: Some(caller_audio),
                commands: &["/dial 6002"],
                quit_after_secs: Some(quit_after_secs.0),
            },
        );
        (caller, callee)
    }
}

/// One call to `exten` through `front` as 6001 with SIPp (`proxied_uac_call.xml`), its RTP
/// received by a fresh [`RtpPeer`]: SIPp's result and what the caller heard.
pub fn call_through(front: SocketAddr, exten: &str) -> (SippRun, RtpPeer) {
    let media = RtpPeer::start();
    let run = call_as_6001_at(
        front,
        "sipp/proxied_uac_call.xml",
        exten,
        media.port,
        &["-m", "1"],
    );
    (run, media)
}

/// `count` calls to 8000 through `front` at once; panics unless every one succeeded and its
/// caller heard the whole hello-world prompt.
pub fn calls_hear_hello_world(cluster: &Cluster, count: usize) {
    let front = cluster.front.sip;
    let calls: Vec<(SippRun, RtpPeer)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|_| scope.spawn(move || call_through(front, "8000")))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(calls.len(), count);
    for (i, (run, media)) in calls.iter().enumerate() {
        assert_eq!(
            (run.successful, run.failed),
            (1, 0),
            "call {i} failed:\n{}\n{}",
            run.stdout,
            cluster.front.log()
        );
        assert!(
            media.heard_prompt("hello-world"),
            "caller {i} did not hear the prompt ({} packets)",
            media.packets().len()
        );
    }
}
