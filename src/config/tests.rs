//! Tests of config loading: the shipped file, substitution and error positions.

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("test.toml"), text, no_env)
}

const MINIMAL: &str = "[sip]\nbind = \"127.0.0.1:5060\"\n";

#[test]
fn shipped_default_parses_with_two_endpoints() {
    let config = Config::parse(Path::new(EMBEDDED_NAME), DEFAULT_CONFIG, no_env).unwrap();
    assert_eq!(config.sip.bind, "0.0.0.0:5060".parse().unwrap());
    assert!(config.sip.external_address.is_none());
    let users: Vec<_> = config
        .endpoints
        .iter()
        .map(|e| e.user.get_ref().as_str())
        .collect();
    assert_eq!(users, ["6001", "6002"]);
    assert_eq!(
        config.endpoint("6001").unwrap().password.get_ref(),
        "unsecurepassword"
    );
    assert_eq!(*config.rtp.port_min.get_ref(), 10000);
    assert_eq!(
        *config.api.bind.get_ref(),
        "127.0.0.1:8088".parse().unwrap()
    );
}

#[test]
fn shipped_default_takes_environment_values() {
    let env = |name: &str| match name {
        "EXTERNAL_IP" => Some("203.0.113.7".to_string()),
        "RTP_PORT_MIN" => Some("30000".to_string()),
        "RTP_PORT_MAX" => Some("30099".to_string()),
        _ => None,
    };
    let config = Config::parse(Path::new("pbx.toml"), DEFAULT_CONFIG, env).unwrap();
    assert_eq!(
        *config.sip.external_address.unwrap().get_ref(),
        "203.0.113.7".parse::<IpAddr>().unwrap()
    );
    assert_eq!(*config.rtp.port_max.get_ref(), 30099);
}

#[test]
fn minimal_file_gets_laptop_defaults() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.sip.realm, "pbx");
    assert_eq!(*config.registrar.default_expires.get_ref(), 600);
    assert!(config.endpoints.is_empty());
}

#[test]
fn unknown_key_names_line_and_key() {
    let err = parse("[sip]\nbind = \"127.0.0.1:5060\"\nbindd = 1\n").unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("test.toml:3:1: "), "{text}");
    assert!(text.contains("unknown field `bindd`"), "{text}");
}

#[test]
fn bad_address_names_line() {
    let err = parse("[sip]\n\nbind = \"127.0.0.1:99999\"\n").unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("test.toml:3:"), "{text}");
    assert!(text.contains("invalid socket address"), "{text}");
}

#[test]
fn bad_external_address_names_line() {
    let err = parse("[sip]\nbind = \"127.0.0.1:5060\"\nexternal_address = \"pbx.example\"\n")
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("test.toml:3:"), "{text}");
    assert!(text.contains("invalid IP address"), "{text}");
}

#[test]
fn inverted_port_range_points_at_port_max() {
    let text = format!("{MINIMAL}[rtp]\nport_min = 20000\nport_max = 10000\n");
    let err = parse(&text).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("test.toml:5:12: "), "{text}");
    assert!(text.contains("inverted"), "{text}");
}

#[test]
fn duplicate_endpoint_points_at_second_user() {
    let text = format!(
        "{MINIMAL}[[endpoint]]\nuser = \"6001\"\npassword = \"a\"\n[[endpoint]]\nuser = \"6001\"\npassword = \"b\"\n"
    );
    let err = parse(&text).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("test.toml:7:8: "), "{text}");
    assert!(text.contains("duplicate endpoint `6001`"), "{text}");
}

#[test]
fn unknown_codec_is_rejected_with_line() {
    let text =
        format!("{MINIMAL}[[endpoint]]\nuser = \"6001\"\npassword = \"a\"\ncodecs = [\"G729\"]\n");
    let err = parse(&text).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("test.toml:6:"), "{text}");
    assert!(text.contains("G729"), "{text}");
}

#[test]
fn unset_variable_is_named_with_its_line() {
    let err = Config::parse(
        Path::new("pbx.toml"),
        "[sip]\nbind = \"${SIP_BIND}\"\n",
        no_env,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "pbx.toml:2:9: environment variable SIP_BIND is not set and has no default (write ${SIP_BIND:-default} to give one)"
    );
}

#[test]
fn expiry_defaults_must_lie_inside_the_limits() {
    let text = format!(
        "{MINIMAL}[registrar]\nmin_expires = 60\nmax_expires = 3600\ndefault_expires = 30\n"
    );
    let err = parse(&text).unwrap_err();
    assert!(err.to_string().starts_with("test.toml:6:"), "{err}");
}

#[test]
fn shipped_default_has_ami_off_with_a_disabled_admin() {
    let config = Config::parse(Path::new(EMBEDDED_NAME), DEFAULT_CONFIG, no_env).unwrap();
    assert!(!config.ami.enabled);
    assert_eq!(config.ami.bind, "127.0.0.1:5038".parse().unwrap());
    let admin = &config.ami.users[0];
    assert_eq!(admin.username.get_ref(), "admin");
    assert!(admin.secret.is_empty());
    assert_eq!(admin.read_classes(), crate::ami::class::ClassSet::ALL);
    assert_eq!(admin.permitted_networks().len(), 2);
    let env = |name: &str| match name {
        "AMI_ENABLED" => Some("true".to_string()),
        "AMI_SECRET" => Some("s3cret".to_string()),
        _ => None,
    };
    let config = Config::parse(Path::new("pbx.toml"), DEFAULT_CONFIG, env).unwrap();
    assert!(config.ami.enabled);
    assert_eq!(config.ami.users[0].secret, "s3cret");
}

#[test]
fn ami_section_defaults_and_user_classes() {
    let text = format!(
        "{MINIMAL}[ami]\nenabled = true\n[[ami.user]]\nusername = \"mon\"\nsecret = \"x\"\nread = [\"call\", \"dtmf\"]\nwrite = [\"reporting\"]\n"
    );
    let config = parse(&text).unwrap();
    assert_eq!(config.ami.bind, "127.0.0.1:5038".parse().unwrap());
    let user = &config.ami.users[0];
    use crate::ami::class::{Class, ClassSet};
    assert_eq!(
        user.read_classes(),
        ClassSet::of(&[Class::Call, Class::Dtmf])
    );
    assert_eq!(user.write_classes(), ClassSet::of(&[Class::Reporting]));
    assert!(user
        .permitted_networks()
        .iter()
        .any(|n| n.contains(&"127.0.0.1".parse::<IpAddr>().unwrap())));
    assert!(!parse(MINIMAL).unwrap().ami.enabled);
}

#[test]
fn ami_unknown_class_names_file_line_and_class() {
    let text = format!(
        "{MINIMAL}[ami]\n[[ami.user]]\nusername = \"mon\"\nsecret = \"x\"\nread = [\"call\", \"cal\"]\n"
    );
    let err = parse(&text).unwrap_err().to_string();
    assert!(err.starts_with("test.toml:7:17: "), "{err}");
    assert!(err.contains("`cal` is not a permission class"), "{err}");
}

#[test]
fn ami_bad_network_duplicate_user_and_unknown_key_are_named() {
    let bad_net = format!(
        "{MINIMAL}[ami]\n[[ami.user]]\nusername = \"a\"\nsecret = \"x\"\npermit = [\"10.0.0.0/33\"]\n"
    );
    let err = parse(&bad_net).unwrap_err().to_string();
    assert!(err.starts_with("test.toml:7:11: "), "{err}");
    assert!(err.contains("not an address or network"), "{err}");
    let duplicate = format!(
        "{MINIMAL}[ami]\n[[ami.user]]\nusername = \"a\"\nsecret = \"x\"\n[[ami.user]]\nusername = \"A\"\nsecret = \"y\"\n"
    );
    let err = parse(&duplicate).unwrap_err().to_string();
    assert!(err.starts_with("test.toml:8:12: "), "{err}");
    assert!(err.contains("duplicate ami user `A`"), "{err}");
    let unknown = format!("{MINIMAL}[ami]\nenable = true\n");
    let err = parse(&unknown).unwrap_err().to_string();
    assert!(err.starts_with("test.toml:4:1: "), "{err}");
    assert!(err.contains("unknown field `enable`"), "{err}");
    let bind = format!("{MINIMAL}[ami]\nbind = \"localhost\"\n");
    let err = parse(&bind).unwrap_err().to_string();
    assert!(err.starts_with("test.toml:4:"), "{err}");
}
