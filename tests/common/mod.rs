//! Shared helpers for the integration tests: start the real `pbx` binary on loopback with a
//! generated config, wait for it, talk to its admin API, and run real peers (SIPp, baresip).
#![allow(dead_code)] // each test binary uses a different subset of these helpers

pub mod ari;
pub mod callee;
pub mod cluster;
pub mod events;
pub mod kamailio;
pub mod python;

use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Finds a free UDP port on 127.0.0.1 in 20000-29999 (below the kernel's ephemeral range and
/// away from the pbx's RTP ranges) whose TCP twin is free too (SIPp and baresip bind both).
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let port = 20000 + (rand::random::<u16>() % 10000);
        let udp_free = UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if udp_free && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port found in 20000-29999");
}

/// The first port of a block of 40 free UDP ports in 30000-32759 for a pbx's RTP range:
/// below the kernel's ephemeral ports (32768 and up) and away from `free_port`'s range, picked
/// at random and checked, so pbx instances running side by side do not share ports.
pub fn free_rtp_block() -> u16 {
    for _ in 0..1000 {
        let start = 30000 + (rand::random::<u16>() % 69) * 40;
        if (start..start + 40)
            .step_by(2)
            .all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok())
        {
            return start;
        }
    }
    panic!("no free block of RTP ports in 30000-32759");
}

/// A free TCP port for a listener of the pbx (admin API, AMI, event socket) in 12000-19999,
/// picked at random and checked: outside the kernel's ephemeral range, so a client's outgoing
/// connection cannot take it between this check and the pbx's bind.
pub fn free_tcp_port() -> u16 {
    for _ in 0..1000 {
        let port = 12000 + (rand::random::<u16>() % 8000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free TCP port found in 12000-19999");
}

/// Fails (never skips) when a peer program is missing, with the command that installs it.
pub fn require_program(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed; the README's test command installs it (apt-get install sip-tester baresip-core sox)")
    })
}

/// A running pbx with its own config, data directory and ports, stopped on drop.
pub struct Pbx {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub sip: SocketAddr,
    pub api: String,
    /// The admin API's `[api] token`, when the options gave one.
    pub api_token: Option<String>,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
}

/// Options for [`Pbx::start`].
#[derive(Clone)]
pub struct PbxOptions {
    /// Extra TOML appended to the generated config.
    pub extra_config: String,
    /// Registrar section override.
    pub registrar: String,
    /// SIP port to bind instead of a fresh one (restart tests).
    pub sip_port: Option<u16>,
    /// Environment variables for the pbx process (e.g. EXTERNAL_EXTENSION_NUMBER).
    pub env: Vec<(String, String)>,
    /// An `[api] token` the admin API then requires (and this harness presents).
    pub api_token: Option<String>,
}

impl Default for PbxOptions {
    fn default() -> Self {
        PbxOptions {
            extra_config: String::new(),
            api_token: None,
            registrar: "min_expires = 60\nmax_expires = 3600\ndefault_expires = 600\nqualify_interval_secs = 30\n".into(),
            sip_port: None,
            env: Vec::new(),
        }
    }
}

pub const PASSWORD: &str = "unsecurepassword";

impl Pbx {
    /// Starts the pbx with two endpoints 6001 and 6002 on free loopback ports.
    pub fn start() -> Pbx {
        Pbx::start_with(PbxOptions::default())
    }

    /// Starts the pbx with `options`.
    pub fn start_with(options: PbxOptions) -> Pbx {
        let dir = tempfile::tempdir().unwrap();
        Pbx::start_in(dir, options)
    }

    /// Starts the pbx in an existing directory (its saved registrations are loaded).
    pub fn start_in(dir: tempfile::TempDir, options: PbxOptions) -> Pbx {
        let sip_port = options.sip_port.unwrap_or_else(free_port);
        let api_port = free_tcp_port();
        let rtp_base = free_rtp_block();
        let config = format!(
            "[sip]\nbind = \"127.0.0.1:{sip_port}\"\nrealm = \"pbx\"\n\n\
             [rtp]\nport_min = {rtp_base}\nport_max = {}\n\n\
             [registrar]\n{}persist_file = \"{}\"\n\n\
             [api]\nbind = \"127.0.0.1:{api_port}\"\ntoken = \"{}\"\n\n\
             [[endpoint]]\nuser = \"6001\"\npassword = \"{PASSWORD}\"\n\n\
             [[endpoint]]\nuser = \"6002\"\npassword = \"{PASSWORD}\"\n\n{}",
            rtp_base + 39,
            options.registrar,
            dir.path().join("registrations.json").display(),
            options.api_token.clone().unwrap_or_default(),
            options.extra_config
        );
        let config_path = dir.path().join("pbx.toml");
        std::fs::write(&config_path, config).unwrap();
        Pbx::launch(
            dir,
            config_path,
            &options.env,
            SocketAddr::from(([127, 0, 0, 1], sip_port)),
            format!("http://127.0.0.1:{api_port}"),
            options.api_token,
        )
    }

    /// Starts the pbx on an existing config file (a shipped one, templated by `env`), whose
    /// SIP is on `sip` and admin API at `api` (`http://HOST:PORT`), and waits until it is up.
    pub fn launch(
        dir: tempfile::TempDir,
        config_path: PathBuf,
        env: &[(String, String)],
        sip: SocketAddr,
        api: String,
        api_token: Option<String>,
    ) -> Pbx {
        let log_path = dir.path().join("pbx.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_pbx"))
            .args(["--log-level", "debug", "run", "--config"])
            .arg(&config_path)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start pbx");
        let mut pbx = Pbx {
            child: Some(child),
            dir,
            sip,
            api,
            api_token,
            config_path,
            log_path,
        };
        pbx.wait_ready();
        pbx
    }

    /// Sends the pbx SIGTERM and returns at once (see [`Pbx::wait_exit`]).
    pub fn sigterm(&self) {
        let child = self.child.as_ref().expect("the pbx is running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Kills the pbx with SIGKILL (a crash: nothing is cleaned up) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits up to `timeout` for the pbx to exit by itself; its exit status, `None` while it
    /// still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.get("/api/health").is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("pbx exited with {status}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("pbx did not become ready:\n{}", self.log());
    }

    /// GETs an admin API path and parses the JSON.
    pub fn get(&self, path: &str) -> Result<serde_json::Value, String> {
        let response = self
            .request("GET", path)
            .call()
            .map_err(|e| e.to_string())?;
        response.into_json().map_err(|e| e.to_string())
    }

    /// A request to an admin API path, with the token when there is one.
    pub fn request(&self, method: &str, path: &str) -> ureq::Request {
        let request =
            ureq::request(method, &format!("{}{path}", self.api)).timeout(Duration::from_secs(5));
        match &self.api_token {
            Some(token) => request.set("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    /// POSTs `body` (JSON) to an admin API path: the parsed answer, or the status and text.
    pub fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value, String> {
        let response = self.request("POST", path).send_json(body);
        answer(response)
    }

    /// DELETEs an admin API path: the parsed answer, or the status and text.
    pub fn delete(&self, path: &str) -> Result<serde_json::Value, String> {
        let response = self.request("DELETE", path).call();
        answer(response)
    }

    /// The registrations the admin API lists.
    pub fn registrations(&self) -> Vec<serde_json::Value> {
        self.get("/api/registrations")
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Runs `pbx ctl ARGS` against this pbx.
    pub fn ctl(&self, args: &[&str]) -> Output {
        let mut ctl = Command::new(env!("CARGO_BIN_EXE_pbx"));
        ctl.args(["ctl", "--api", &self.api]).args(args);
        match &self.api_token {
            Some(token) => ctl.env("PBX_API_TOKEN", token),
            None => ctl.env_remove("PBX_API_TOKEN"),
        };
        ctl.output().unwrap()
    }

    /// The pbx's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Stops the pbx with SIGTERM and waits, returning its data directory for a restart.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.terminate();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Pbx {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Path of a fixture file.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// Result of a SIPp run: its output and the final statistics row.
pub struct SippRun {
    pub output: Output,
    pub successful: u64,
    pub failed: u64,
    pub stdout: String,
}

impl SippRun {
    /// Asserts that `calls` calls succeeded and none failed; shows SIPp's output and the
    /// pbx's log otherwise.
    pub fn assert_succeeded(&self, calls: u64, pbx: &Pbx) {
        assert_eq!(
            (self.successful, self.failed),
            (calls, 0),
            "{}\n{}",
            self.stdout,
            pbx.log()
        );
    }
}

/// Runs SIPp in the foreground with `scenario` against `target`, bounded by `-timeout`.
pub fn sipp(scenario: &Path, target: SocketAddr, extra: &[&str]) -> SippRun {
    sipp_from("127.0.0.1", scenario, target, extra)
}

/// [`sipp`] bound to another loopback address `local_ip` (a second host on 127.0.0.0/8).
pub fn sipp_from(local_ip: &str, scenario: &Path, target: SocketAddr, extra: &[&str]) -> SippRun {
    require_program("sipp");
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.csv");
    let port = free_port();
    let output = Command::new("sipp")
        .arg(target.to_string())
        .arg("-sf")
        .arg(scenario)
        .args(["-i", local_ip, "-p", &port.to_string()])
        .args(["-nostdin", "-trace_stat", "-fd", "1", "-timeout", "60s"])
        .arg("-stf")
        .arg(&stats)
        .args(extra)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sipp");
    let csv = std::fs::read_to_string(&stats).unwrap_or_default();
    let (successful, failed) = last_row_counts(&csv);
    SippRun {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
        output,
        successful,
        failed,
    }
}

fn last_row_counts(csv: &str) -> (u64, u64) {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return (0, 0);
    };
    let Some(last) = lines.next_back() else {
        return (0, 0);
    };
    let names: Vec<&str> = header.split(';').collect();
    let values: Vec<&str> = last.split(';').collect();
    let get = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| values.get(i))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (get("SuccessfulCall(C)"), get("FailedCall(C)"))
}

/// Sends raw datagrams from a fresh socket and collects what comes back within `wait`.
pub fn exchange(target: SocketAddr, datagrams: &[&[u8]], wait: Duration) -> Vec<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    for d in datagrams {
        socket.send_to(d, target).unwrap();
    }
    let mut replies = Vec::new();
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            replies.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    replies
}

/// Writes `text` to a file in `dir` and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    path
}

/// A baresip softphone on loopback, driven by its config directory; killed on drop.
pub struct Baresip {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

/// What a [`Baresip`] phone does.
pub struct BaresipOptions<'a> {
    /// Account user (also the digest username).
    pub user: &'a str,
    /// Digest password.
    pub password: &'a str,
    /// Extra account parameters, e.g. `;answermode=auto;audio_codecs=PCMA/8000/1`.
    pub account_params: &'a str,
    /// WAV file the phone sends as its microphone (silence when `None`).
    pub audio_source: Option<&'a Path>,
    /// Commands executed at start, e.g. `/dial 8000`.
    pub commands: &'a [&'a str],
    /// Quit (hanging up any call with BYE) after this many seconds.
    pub quit_after_secs: Option<u32>,
}

impl Baresip {
    /// Starts baresip registering to `pbx`. What it hears is recorded under `dir/dump`.
    pub fn start(pbx: SocketAddr, options: BaresipOptions<'_>) -> Baresip {
        let program = require_program("baresip");
        let dir = tempfile::tempdir().unwrap();
        // SIP on `port`, TLS on `port + 1`, the UDP console on `port + 2`.
        let port = loop {
            let p = free_port();
            if TcpListener::bind(("127.0.0.1", p + 1)).is_ok()
                && UdpSocket::bind(("127.0.0.1", p + 2)).is_ok()
                && TcpListener::bind(("127.0.0.1", p + 2)).is_ok()
            {
                break p;
            }
        };
        let dump = dir.path().join("dump");
        std::fs::create_dir_all(&dump).unwrap();
        let source = match options.audio_source {
            Some(path) => format!("aufile,{}", path.display()),
            None => {
                // baresip's ausine runs at 48 kHz only; an 8 kHz silence file works everywhere.
                let silence = dir.path().join("silence.wav");
                let status = Command::new(require_program("sox"))
                    .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
                    .arg(&silence)
                    .args(["trim", "0", "30"])
                    .status()
                    .unwrap();
                assert!(status.success());
                format!("aufile,{}", silence.display())
            }
        };
        let config = format!(
            "poll_method\tepoll\n\
             sip_listen\t127.0.0.1:{port}\n\
             net_interface\t127.0.0.1\n\
             audio_player\taufile,/dev/null\n\
             audio_source\t{source}\n\
             audio_alert\taufile,/dev/null\n\
             module_path\t/usr/lib/baresip/modules\n\
             module\tg711.so\n\
             module\taufile.so\n\
             module\tsndfile.so\n\
             snd_path\t{}\n\
             module_app\taccount.so\n\
             module_app\tmenu.so\n\
             module\tcons.so\n\
             cons_listen\t127.0.0.1:{}\n\
             rtp_ports\t{}-{}\n",
            dump.display(),
            port + 2,
            port + 100,
            port + 140,
        );
        write_file(dir.path(), "config", &config);
        let account = format!(
            "<sip:{user}@{pbx};transport=udp>;auth_pass={password};regint=600{params}\n",
            user = options.user,
            password = options.password,
            params = options.account_params
        );
        write_file(dir.path(), "accounts", &account);
        write_file(dir.path(), "contacts", "");
        let log = std::fs::File::create(dir.path().join("baresip.log")).unwrap();
        let mut command = Command::new(program);
        command.arg("-f").arg(dir.path());
        for c in options.commands {
            command.args(["-e", c]);
        }
        if let Some(secs) = options.quit_after_secs {
            command.args(["-t", &secs.to_string()]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start baresip");
        Baresip { child, dir, port }
    }

    /// Types `command` (e.g. `/transfer 8000`) into the running phone through its UDP
    /// console (baresip's cons module), as a user would at its prompt.
    pub fn command(&self, command: &str) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .send_to(
                format!("{command}\n").as_bytes(),
                ("127.0.0.1", self.port + 2),
            )
            .unwrap();
    }

    /// Starts a phone for `user` that answers every call (`answermode=auto` plus
    /// `account_params`), sends `audio_source` and quits after `quit_after_secs`, and waits
    /// until the pbx lists its registration.
    pub fn answering(
        pbx: &Pbx,
        user: &str,
        account_params: &str,
        audio_source: Option<&Path>,
        quit_after_secs: u32,
    ) -> Baresip {
        let params = format!(";answermode=auto{account_params}");
        let phone = Baresip::start(
            pbx.sip,
            BaresipOptions {
                user,
                password: PASSWORD,
                account_params: &params,
                audio_source,
                commands: &[],
                quit_after_secs: Some(quit_after_secs),
            },
        );
        let registered = wait_until(Duration::from_secs(15), || {
            pbx.registrations().iter().any(|r| r["aor"] == user)
        });
        assert!(registered, "{user} did not register\n{}", phone.log());
        phone
    }

    /// Waits for the phone to quit by itself; false on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        wait_until(timeout, || matches!(self.child.try_wait(), Ok(Some(_))))
    }

    /// baresip's own log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it is true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}

/// An admin API answer as JSON, or `"STATUS: text"`.
fn answer(response: Result<ureq::Response, ureq::Error>) -> Result<serde_json::Value, String> {
    match response {
        Ok(response) => response.into_json().map_err(|e| e.to_string()),
        Err(ureq::Error::Status(status, response)) => Err(format!(
            "{status}: {}",
            response.into_string().unwrap_or_default()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// One RTP packet the test's media socket received.
#[derive(Debug, Clone)]
pub struct RtpReceived {
    /// When it arrived.
    pub at: Instant,
    /// Payload type.
    pub payload_type: u8,
    /// Marker bit.
    pub marker: bool,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// The test's own RTP endpoint: a UDP socket on loopback whose port goes into the SDP of a
/// SIPp call; it records every packet and can send RTP back to where packets came from.
pub struct RtpPeer {
    socket: UdpSocket,
    pub port: u16,
    received: std::sync::Arc<std::sync::Mutex<Vec<RtpReceived>>>,
    last_source: std::sync::Arc<std::sync::Mutex<Option<SocketAddr>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RtpPeer {
    /// Binds a free port and starts recording.
    pub fn start() -> RtpPeer {
        let socket = loop {
            let port = free_port();
            if port.is_multiple_of(2) {
                if let Ok(s) = UdpSocket::bind(("127.0.0.1", port)) {
                    break s;
                }
            }
        };
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let last_source = std::sync::Arc::new(std::sync::Mutex::new(None));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let socket = socket.try_clone().unwrap();
            let (received, last_source, stop) =
                (received.clone(), last_source.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if n < 12 || buf[0] >> 6 != 2 {
                        continue;
                    }
                    *last_source.lock().unwrap() = Some(from);
                    received.lock().unwrap().push(RtpReceived {
                        at: Instant::now(),
                        payload_type: buf[1] & 0x7f,
                        marker: buf[1] & 0x80 != 0,
                        timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
                        payload: buf[12..n].to_vec(),
                    });
                }
            })
        };
        RtpPeer {
            socket,
            port,
            received,
            last_source,
            stop,
            thread: Some(thread),
        }
    }

    /// Packets received so far.
    pub fn packets(&self) -> Vec<RtpReceived> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` packets arrived (or `timeout`).
    /// The mu-law audio (payload type 0) received, in arrival order.
    pub fn heard_ulaw(&self) -> Vec<u8> {
        self.packets()
            .iter()
            .filter(|p| p.payload_type == 0)
            .flat_map(|p| p.payload.iter().copied())
            .collect()
    }

    /// Whether the audio received holds the built-in prompt `name` byte for byte.
    pub fn heard_prompt(&self, name: &str) -> bool {
        find_prompt(&self.heard_ulaw(), &prompt_ulaw(name)).is_some()
    }

    pub fn wait_packets(&self, count: usize, timeout: Duration) -> bool {
        wait_until(timeout, || self.received.lock().unwrap().len() >= count)
    }

    /// Sends the RTP packets of a pcap file (as SIPp's `dtmf_2833_*.pcap`) to the address RTP
    /// came from, paced as recorded, with payload type `pt`.
    pub fn send_pcap(&self, pcap: &Path, pt: u8) {
        let to = self
            .last_source
            .lock()
            .unwrap()
            .expect("no RTP received yet to answer to");
        let mut previous: Option<Duration> = None;
        for (at, mut packet) in read_pcap_udp_payloads(pcap) {
            if let Some(prev) = previous {
                std::thread::sleep(at.saturating_sub(prev));
            }
            previous = Some(at);
            packet[1] = (packet[1] & 0x80) | (pt & 0x7f);
            self.socket.send_to(&packet, to).unwrap();
        }
    }
}

/// A tone for [`RtpPeer::stream_tone`] to send.
#[derive(Debug, Clone, Copy)]
pub struct ToneStream {
    /// The tone's frequency in Hz (amplitude half of full scale, like [`tone_file`]).
    pub freq: f64,
    /// Packetization: each packet carries this many milliseconds (8 samples per ms).
    pub ptime_ms: u32,
    /// How long to send, from the first packet.
    pub duration: Duration,
    /// A stretch (from, to, since the first packet) during which nothing is sent.
    pub pause: Option<(Duration, Duration)>,
}

impl RtpPeer {
    /// Sends `tone` as mu-law RTP (payload type 0), paced by the wall clock, from this peer's
    /// socket to the address RTP comes from: waits up to 10 s for a first packet to learn it.
    /// Returns the sending thread, which yields the number of packets sent.
    pub fn stream_tone(&self, tone: ToneStream) -> std::thread::JoinHandle<usize> {
        let socket = self.socket.try_clone().unwrap();
        let (last_source, stop) = (self.last_source.clone(), self.stop.clone());
        std::thread::spawn(move || {
            let known = || *last_source.lock().unwrap();
            if !wait_until(Duration::from_secs(10), || known().is_some()) {
                return 0;
            }
            let to = known().unwrap();
            let samples = tone.ptime_ms as usize * 8;
            let ptime = Duration::from_millis(u64::from(tone.ptime_ms));
            let ssrc = rand::random::<u32>();
            let start = Instant::now();
            let mut sent = 0;
            for n in 0u32.. {
                let offset = ptime * n;
                if offset >= tone.duration || stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                if let Some(wait) = (start + offset).checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                if tone
                    .pause
                    .is_some_and(|(from, to)| (from..to).contains(&offset))
                {
                    continue;
                }
                let mut packet = vec![0x80, if sent == 0 { 0x80 } else { 0 }];
                packet.extend_from_slice(&(n as u16).to_be_bytes());
                packet.extend_from_slice(&(n * samples as u32).to_be_bytes());
                packet.extend_from_slice(&ssrc.to_be_bytes());
                let first = n as usize * samples;
                packet.extend((first..first + samples).map(|i| {
                    let phase = 2.0 * std::f64::consts::PI * tone.freq * i as f64 / 8000.0;
                    pbx::media::codec::g711::linear_to_ulaw((phase.sin() * 16384.0) as i16)
                }));
                socket.send_to(&packet, to).unwrap();
                sent += 1;
            }
            sent
        })
    }
}

impl Drop for RtpPeer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads a classic little-endian pcap of Ethernet/IPv4/UDP frames: (time offset, UDP payload).
pub fn read_pcap_udp_payloads(path: &Path) -> Vec<(Duration, Vec<u8>)> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &data[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "not a little-endian pcap"
    );
    let u32_at =
        |at: usize| u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    let mut out = Vec::new();
    let mut offset = 24;
    let mut first: Option<Duration> = None;
    while offset + 16 <= data.len() {
        let at = Duration::new(u64::from(u32_at(offset)), u32_at(offset + 4) * 1000);
        let len = u32_at(offset + 8) as usize;
        let frame = &data[offset + 16..offset + 16 + len];
        offset += 16 + len;
        let ip = 14;
        let udp = ip + usize::from(frame[ip] & 0x0f) * 4;
        let start = *first.get_or_insert(at);
        out.push((at - start, frame[udp + 8..].to_vec()));
    }
    out
}

/// The mu-law bytes of a prompt under `sounds/en/`, as the PBX sends it.
pub fn prompt_ulaw(name: &str) -> Vec<u8> {
    sound_ulaw(&format!("en/{name}"))
}

/// The mu-law bytes of the music on hold (`sounds/moh/default.wav`), as the PBX sends it.
pub fn music_on_hold_ulaw() -> Vec<u8> {
    sound_ulaw("moh/default")
}

/// The mu-law bytes of `sounds/<name>.wav`.
fn sound_ulaw(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sounds/{name}.wav"));
    let sound =
        pbx::media::wav::Sound::from_wav_bytes(name, &std::fs::read(&path).unwrap()).unwrap();
    sound
        .samples()
        .iter()
        .map(|&s| pbx::media::codec::g711::linear_to_ulaw(s))
        .collect()
}

/// Where `needle` (its first `len - 160` bytes: the last frame is padded) starts in `haystack`.
pub fn find_prompt(haystack: &[u8], prompt: &[u8]) -> Option<usize> {
    let needle = &prompt[..prompt.len().saturating_sub(160).max(160).min(prompt.len())];
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// RMS level in dBFS of mu-law audio.
pub fn ulaw_rms_dbfs(payload: &[u8]) -> f64 {
    if payload.is_empty() {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = payload
        .iter()
        .map(|&b| {
            let s = f64::from(pbx::media::codec::g711::ulaw_to_linear(b));
            s * s
        })
        .sum();
    20.0 * ((sum / payload.len() as f64).sqrt() / 32768.0).log10()
}

/// Writes a 30 s sine tone of `freq` Hz (8 kHz mono 16-bit WAV) with sox into `dir`.
pub fn tone_file(dir: &Path, freq: u32) -> PathBuf {
    tone_file_lasting(dir, freq, 30)
}

/// Writes a sine tone of `freq` Hz lasting `secs` (8 kHz mono 16-bit WAV) into `dir`. A
/// baresip phone whose audio source ends hangs up, so its tone must outlast the call.
pub fn tone_file_lasting(dir: &Path, freq: u32, secs: u32) -> PathBuf {
    let path = dir.join(format!("tone-{freq}-{secs}s.wav"));
    let status = Command::new(require_program("sox"))
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
        .arg(&path)
        .args([
            "synth",
            &secs.to_string(),
            "sine",
            &freq.to_string(),
            "vol",
            "0.5",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    path
}

/// Mono 16-bit samples and sample rate of a PCM WAV file (baresip's recordings).
pub fn read_wav(path: &Path) -> (Vec<i16>, u32) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&data[..4], b"RIFF", "{} is not a WAV", path.display());
    let mut offset = 12;
    let mut rate = 0;
    let mut channels = 1;
    while offset + 8 <= data.len() {
        let id = &data[offset..offset + 4];
        let mut len = u32::from_le_bytes(data[offset + 4..offset + 8].try_into().unwrap()) as usize;
        if id == b"data" && (len == 0 || offset + 8 + len > data.len()) {
            // A recorder stopped before finalising its header: the data runs to the end.
            len = data.len() - offset - 8;
        }
        let body = &data[offset + 8..(offset + 8 + len).min(data.len())];
        if id == b"fmt " {
            channels = u16::from_le_bytes([body[2], body[3]]) as usize;
            rate = u32::from_le_bytes(body[4..8].try_into().unwrap());
        } else if id == b"data" {
            let samples = body
                .chunks_exact(2 * channels)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
            return (samples, rate);
        }
        offset += 8 + len + (len & 1);
    }
    panic!("{}: no data chunk", path.display());
}

/// Linear samples of mu-law audio.
pub fn ulaw_samples(payload: &[u8]) -> Vec<i16> {
    payload
        .iter()
        .map(|&b| pbx::media::codec::g711::ulaw_to_linear(b))
        .collect()
}

/// RMS level in dBFS of linear samples.
pub fn rms_dbfs(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    20.0 * ((sum / samples.len() as f64).sqrt() / 32768.0).log10()
}

/// Goertzel power of `freq` in `samples` (normalised by length), for tone checks.
pub fn tone_power(samples: &[i16], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) / 32768.0 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len().max(1) as f64).powi(2)
}

/// The fraction of 100 ms windows of `samples` in which `freq` dominates `other`.
pub fn tone_share(samples: &[i16], rate: u32, freq: f64, other: f64) -> f64 {
    let window = (rate / 10) as usize;
    let windows: Vec<&[i16]> = samples.chunks_exact(window).collect();
    if windows.is_empty() {
        return 0.0;
    }
    let hits = windows
        .iter()
        .filter(|w| {
            let (p, q) = (tone_power(w, rate, freq), tone_power(w, rate, other));
            p > 10.0 * q && p > 1e-4
        })
        .count();
    hits as f64 / windows.len() as f64
}

/// The path of the recording of what a baresip phone heard (`dump-*-dec.wav`).
pub fn heard_recording(phone: &Baresip) -> Option<PathBuf> {
    std::fs::read_dir(phone.dir.path().join("dump"))
        .ok()?
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
}

/// SIPp's own recording of an RFC 4733 key press (`0`-`9`, `pound`, `star`).
pub fn dtmf_pcap(digit: &str) -> PathBuf {
    let pcap = PathBuf::from(format!("/usr/share/sip-tester/dtmf_2833_{digit}.pcap"));
    assert!(
        pcap.exists(),
        "{} missing: install sip-tester",
        pcap.display()
    );
    pcap
}

/// Calls `exten` as 6001 (digest from `caller_6001.csv`) with the SIPp caller `scenario`, its
/// SDP naming `media_port`.
pub fn call_as_6001(
    pbx: &Pbx,
    scenario: &str,
    exten: &str,
    media_port: u16,
    extra: &[&str],
) -> SippRun {
    call_as_6001_at(pbx.sip, scenario, exten, media_port, extra)
}

/// [`call_as_6001`] sent to `target` (a proxy in front of the pbx, say).
pub fn call_as_6001_at(
    target: SocketAddr,
    scenario: &str,
    exten: &str,
    media_port: u16,
    extra: &[&str],
) -> SippRun {
    let csv = fixture("sipp/caller_6001.csv");
    let port = media_port.to_string();
    let mut args = vec![
        "-s",
        exten,
        "-au",
        "6001",
        "-ap",
        PASSWORD,
        "-inf",
        csv.to_str().unwrap(),
        "-key",
        "rtp_port",
        &port,
    ];
    args.extend_from_slice(extra);
    sipp(&fixture(scenario), target, &args)
}

/// Asserts that no call and no RTP port is left a few seconds after the traffic.
pub fn assert_no_leftovers(pbx: &Pbx) {
    let clean = wait_until(Duration::from_secs(5), || {
        let stats = pbx.get("/api/stats").unwrap();
        stats["calls_active"] == 0 && stats["rtp_ports_in_use"] == 0
    });
    assert!(clean, "{}\n{}", pbx.get("/api/stats").unwrap(), pbx.log());
}
