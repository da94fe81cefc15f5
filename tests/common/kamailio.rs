//! A real, independent SIP provider for the trunk tests: Kamailio running
//! `tests/fixtures/kamailio/provider.cfg` on 127.0.0.1, without a database.
//!
//! The provider has one trunk account, [`TRUNK_USER`] / [`TRUNK_PASSWORD`] (digest, realm =
//! the To domain of the REGISTER, the From domain of an INVITE). Numbers:
//! - a DID `5550200`..`5550299` ([`DID`]) called by anyone goes to the contact registered
//!   for the trunk, the DID kept as the Request-URI user (480 while nothing is registered);
//! - any other number (e.g. [`EXTERNAL_NUMBER`]) must be proxy-authenticated as the trunk and
//!   goes to the "phone behind the provider" on `phone_port`.
//!
//! Registrations live in Kamailio's memory (a restart forgets them) and are read back with
//! `kamcmd ul.dump` over the ctl module's socket. Kamailio runs in the foreground (`-DD -E`)
//! in its own process group, logging to a file in its temporary directory.
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The trunk's user name (digest username and registered AOR).
pub const TRUNK_USER: &str = "pbxtrunk";
/// The trunk's digest password.
pub const TRUNK_PASSWORD: &str = "trunksecret";
/// An external number: INVITEs to it from the authenticated trunk reach the phone.
pub const EXTERNAL_NUMBER: &str = "5550100";
/// A DID of the trunk: INVITEs to it reach the trunk's registered contact.
pub const DID: &str = "5550200";

/// A running Kamailio provider on `127.0.0.1:port`; stopped (by its PID) on drop.
pub struct Kamailio {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Where the provider takes SIP over UDP.
    pub sip: SocketAddr,
    /// Where the provider sends outbound calls (the phone behind the provider).
    pub phone_port: u16,
}

impl Kamailio {
    /// Starts the provider on `port`, sending outbound calls to `127.0.0.1:phone_port`, and
    /// waits until it answers OPTIONS. Panics (never skips) when Kamailio is not installed or
    /// does not come up.
    pub fn start(port: u16, phone_port: u16) -> Kamailio {
        let mut kamailio = Kamailio {
            child: None,
            dir: tempfile::tempdir().expect("temporary directory for kamailio"),
            sip: SocketAddr::from(([127, 0, 0, 1], port)),
            phone_port,
        };
        kamailio.launch();
        kamailio
    }

    /// Stops the provider with SIGTERM (SIGKILL to its process group after 5 s) and waits
    /// until every one of its processes is gone, so the port is free again.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let exited = wait_for(Duration::from_secs(5), || {
            matches!(child.try_wait(), Ok(Some(_)))
        });
        if !exited {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .status();
            let _ = child.wait();
        }
        let group_gone = wait_for(Duration::from_secs(5), || !process_group_alive(&pid));
        assert!(group_gone, "kamailio processes of group {pid} survive");
    }

    /// Stops the provider and starts it again on the same ports (registrations are lost).
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Whether the provider answers an OPTIONS with 200 within `wait`.
    pub fn answers_options(&self, wait: Duration) -> bool {
        options_status(self.sip, wait) == Some(200)
    }

    /// The contact URIs registered for the trunk, read with `kamcmd ul.dump`.
    pub fn registered_contacts(&self) -> Vec<String> {
        let dump = kamcmd(&self.ctl_socket(), self.dir.path(), "ul.dump")
            .unwrap_or_else(|error| panic!("{error}\n{}", self.log()));
        dump.lines()
            .filter_map(|line| line.trim().strip_prefix("Address: "))
            .map(str::to_owned)
            .collect()
    }

    /// Waits up to `timeout` for at least one registered contact and returns them all.
    pub fn wait_contacts(&self, timeout: Duration) -> Vec<String> {
        let mut contacts = Vec::new();
        wait_for(timeout, || {
            contacts = self.registered_contacts();
            !contacts.is_empty()
        });
        contacts
    }

    /// Kamailio's log so far (all runs), including one `provider: METHOD URI from IP:PORT`
    /// line per request and the routing decision taken.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("kamailio.log")
    }

    fn ctl_socket(&self) -> PathBuf {
        self.dir.path().join("ctl.sock")
    }

    fn launch(&mut self) {
        let program = require_program("kamailio");
        let config =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kamailio/provider.cfg");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("kamailio log file");
        let child = Command::new(program)
            .arg("-f")
            .arg(&config)
            .arg("-l")
            .arg(format!("udp:{}", self.sip))
            .arg("-A")
            .arg(format!("PHONE_URI=\"sip:127.0.0.1:{}\"", self.phone_port))
            .arg("-A")
            .arg(format!(
                "CTL_SOCKET=\"unixs:{}\"",
                self.ctl_socket().display()
            ))
            .arg("-Y")
            .arg(self.dir.path())
            .arg("-w")
            .arg(self.dir.path())
            .args(["-DD", "-E", "-m", "32", "-M", "4"])
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("kamailio log file"))
            .stderr(log)
            .spawn()
            .expect("start kamailio");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.answers_options(Duration::from_millis(300)) {
                return;
            }
            let child = self.child.as_mut().expect("kamailio was just started");
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                panic!("kamailio exited with {status}:\n{}", self.log());
            }
        }
        panic!(
            "kamailio does not answer OPTIONS on {}:\n{}",
            self.sip,
            self.log()
        );
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `kamcmd COMMAND` on the ctl socket `socket` (output kept in `dir`), bounded to 5 s:
/// its output, or why it failed.
pub fn kamcmd(socket: &Path, dir: &Path, command: &str) -> Result<String, String> {
    let out_path = dir.join("kamcmd.out");
    let out = std::fs::File::create(&out_path).expect("kamcmd output file");
    let mut child = Command::new(require_program("kamcmd"))
        .arg("-s")
        .arg(format!("unixs:{}", socket.display()))
        .arg(command)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("kamcmd output file"))
        .stderr(out)
        .spawn()
        .expect("run kamcmd");
    let finished = wait_for(Duration::from_secs(5), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !finished {
        let _ = child.kill();
    }
    let status = child.wait().expect("wait for kamcmd");
    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
    if finished && status.success() {
        Ok(output)
    } else {
        Err(format!("kamcmd {command} failed ({status}):\n{output}"))
    }
}

/// The status of the final answer `sip` gives an out-of-dialog OPTIONS within `wait` (sent
/// again every 500 ms), `None` without one.
pub fn options_status(sip: SocketAddr, wait: Duration) -> Option<u16> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    let local = socket.local_addr().expect("bound socket has an address");
    let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
    let branch = format!("z9hG4bKprobe{}", rand::random::<u32>());
    let options = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch={branch};rport\r\n\
         From: <sip:probe@{local}>;tag=probe\r\n\
         To: <sip:{sip}>\r\n\
         Call-ID: {branch}@{local}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 4096];
    let mut next_send = Instant::now();
    while Instant::now() < deadline {
        if Instant::now() >= next_send {
            let _ = socket.send_to(options.as_bytes(), sip);
            next_send = Instant::now() + Duration::from_millis(500);
        }
        if let Ok((n, _)) = socket.recv_from(&mut buf) {
            let reply = String::from_utf8_lossy(&buf[..n]);
            let status = reply
                .strip_prefix("SIP/2.0 ")
                .and_then(|rest| rest.get(..3))
                .and_then(|code| code.parse::<u16>().ok());
            if let Some(status) = status.filter(|s| *s >= 200) {
                if reply.contains(&branch) {
                    return Some(status);
                }
            }
        }
    }
    None
}

/// Finds `name` on PATH or in /usr/sbin; panics with the install command when it is missing.
/// (Shared with [`super::cluster`].)
pub fn require_program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed; the trunk tests need `apt-get install kamailio`")
        })
}

/// Whether any process is left in the process group `pgid`.
pub fn process_group_alive(pgid: &str) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Polls `check` every 50 ms until it is true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
