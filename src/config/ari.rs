//! `[ari]`: the Asterisk REST Interface under `/ari` on the admin API's HTTP server, and its
//! users (`[[ari.user]]`), the TOML form of Asterisk's `ari.conf`. On by default but with no
//! user: until one is configured every request is answered 401, so a fresh install exposes
//! nothing (there is deliberately no built-in default account, not even on loopback, since a
//! well-known password is open to every local process and container).

use serde::Deserialize;
use toml::Spanned;

/// `[ari]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AriConfig {
    /// Whether `/ari` is served at all.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// The realm of the `WWW-Authenticate: Basic` challenge.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// The accounts applications log in with.
    #[serde(default, rename = "user")]
    pub users: Vec<AriUserConfig>,
}

impl Default for AriConfig {
    fn default() -> Self {
        AriConfig {
            enabled: enabled(),
            realm: default_realm(),
            users: Vec::new(),
        }
    }
}

/// `[[ari.user]]`: one ARI account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AriUserConfig {
    /// The user name (HTTP Basic, or the part of `api_key` before `:`).
    pub username: Spanned<String>,
    /// The password, in plain text; empty disables the account.
    pub password: Spanned<String>,
    /// Whether the user may only read (GET); other methods get 403.
    #[serde(default)]
    pub read_only: bool,
}

fn enabled() -> bool {
    true
}

fn default_realm() -> String {
    "pbx".into()
}

/// Checks `[ari]`: user names unique, non-empty, without `:` (which `api_key=user:pass`
/// splits on). `invalid` makes the error for a span of the file.
pub(super) fn validate<E>(
    ari: &AriConfig,
    invalid: impl Fn(std::ops::Range<usize>, String) -> E,
) -> Result<(), E> {
    let mut seen = std::collections::HashSet::new();
    for user in &ari.users {
        let name = user.username.get_ref();
        if name.is_empty() || name.contains(':') || name.contains(char::is_whitespace) {
            return Err(invalid(
                user.username.span(),
                format!("ari user name `{name}` is not usable; expected a non-empty name without spaces or `:`"),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(invalid(
                user.username.span(),
                format!("duplicate ari user `{name}`; user names must be unique"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    const MINIMAL: &str = "[sip]\nbind = \"127.0.0.1:5060\"\n";

    fn parse(text: &str) -> Result<Config, crate::config::ConfigError> {
        Config::parse(Path::new("test.toml"), text, |_| None)
    }

    #[test]
    fn ari_is_on_without_users_by_default_and_users_read_as_written() {
        let config = parse(MINIMAL).unwrap();
        assert!(config.ari.enabled && config.ari.users.is_empty());
        assert_eq!(config.ari.realm, "pbx");
        let text = format!(
            "{MINIMAL}[ari]\nrealm = \"here\"\n[[ari.user]]\nusername = \"app\"\npassword = \"s\"\nread_only = true\n"
        );
        let config = parse(&text).unwrap();
        let user = &config.ari.users[0];
        assert_eq!(
            (user.username.get_ref().as_str(), user.read_only),
            ("app", true)
        );
    }

    #[test]
    fn the_shipped_config_serves_ari_to_nobody_until_a_user_is_added() {
        let config = Config::parse(
            Path::new(crate::config::EMBEDDED_NAME),
            crate::config::DEFAULT_CONFIG,
            |_| None,
        )
        .unwrap();
        assert!(config.ari.enabled);
        assert!(crate::ari::auth::Users::from_config(&config.ari).is_empty());
    }

    #[test]
    fn the_drachtio_example_and_its_dialplan_load() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("config/drachtio.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let config = Config::parse(&path, &text, |_| None).unwrap();
        assert_eq!(config.ari.users[0].username.get_ref(), "drachtio");
        assert_eq!(config.trunks[0].context, "drachtio");
        let dialplan = root.join(config.dialplan.file().unwrap());
        let dialplan = crate::dialplan::Dialplan::load(&dialplan).unwrap();
        assert!(dialplan.context("drachtio").is_some());
    }

    #[test]
    fn bad_ari_users_are_named_with_file_line_and_column() {
        let colon = format!("{MINIMAL}[[ari.user]]\nusername = \"a:b\"\npassword = \"x\"\n");
        let err = parse(&colon).unwrap_err().to_string();
        assert!(err.starts_with("test.toml:4:12: "), "{err}");
        assert!(err.contains("ari user name `a:b` is not usable"), "{err}");
        let duplicate = format!(
            "{MINIMAL}[[ari.user]]\nusername = \"a\"\npassword = \"x\"\n[[ari.user]]\nusername = \"a\"\npassword = \"y\"\n"
        );
        let err = parse(&duplicate).unwrap_err().to_string();
        assert!(err.starts_with("test.toml:7:12: "), "{err}");
        assert!(err.contains("duplicate ari user `a`"), "{err}");
        let unknown = format!("{MINIMAL}[ari]\nenable = true\n");
        let err = parse(&unknown).unwrap_err().to_string();
        assert!(err.contains("unknown field `enable`"), "{err}");
    }
}
