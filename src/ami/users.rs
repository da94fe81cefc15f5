//! AMI accounts and how a Login proves one (sans-IO): a plain `Secret`, or the MD5 form, in
//! which the client first asks for a `Challenge` and then sends `Key` = the lowercase hex
//! MD5 of the challenge followed by the secret, so the secret never crosses the wire. An
//! account may only be used from its `permit` networks; one with an empty secret can never
//! log in.

use std::net::IpAddr;
use std::sync::Arc;

use md5::{Digest, Md5};

use super::class::ClassSet;
use crate::config::AmiConfig;

/// One manager account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its `Username`.
    pub name: String,
    secret: String,
    /// Classes of the events it receives.
    pub read: ClassSet,
    /// Classes of the actions it may run.
    pub write: ClassSet,
    permit: Vec<ipnet::IpNet>,
}

/// What a Login offers as proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// `Secret: <secret>`.
    Secret(&'a str),
    /// `AuthType: md5` with `Key: <hex md5(challenge + secret)>`, against the challenge the
    /// session handed out.
    Md5Key {
        /// The challenge sent with the Challenge action.
        challenge: &'a str,
        /// The client's key.
        key: &'a str,
    },
}

impl User {
    /// An account (tests and config).
    pub fn new(
        name: &str,
        secret: &str,
        read: ClassSet,
        write: ClassSet,
        permit: Vec<ipnet::IpNet>,
    ) -> User {
        User {
            name: name.to_string(),
            secret: secret.to_string(),
            read,
            write,
            permit,
        }
    }

    /// Whether `proof` proves the account, from `peer`.
    pub fn accepts(&self, proof: Proof<'_>, peer: IpAddr) -> bool {
        if self.secret.is_empty() || !self.permit.iter().any(|n| n.contains(&peer)) {
            return false;
        }
        match proof {
            Proof::Secret(secret) => same(secret.as_bytes(), self.secret.as_bytes()),
            Proof::Md5Key { challenge, key } => {
                let expected = md5_key(challenge, &self.secret);
                same(key.to_ascii_lowercase().as_bytes(), expected.as_bytes())
            }
        }
    }
}

/// The MD5 `Key` for `challenge` and `secret`: lowercase hex of md5(challenge + secret).
pub fn md5_key(challenge: &str, secret: &str) -> String {
    let mut hash = Md5::new();
    hash.update(challenge.as_bytes());
    hash.update(secret.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference, so timing tells nothing of a secret.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The accounts, shared by every connection.
#[derive(Debug, Clone, Default)]
pub struct Users(Arc<[User]>);

impl Users {
    /// The accounts of `[ami]`.
    pub fn from_config(config: &AmiConfig) -> Users {
        Users(
            config
                .users
                .iter()
                .map(|u| {
                    User::new(
                        u.username.get_ref(),
                        &u.secret,
                        u.read_classes(),
                        u.write_classes(),
                        u.permitted_networks(),
                    )
                })
                .collect(),
        )
    }

    /// Accounts given directly (tests).
    pub fn new(users: Vec<User>) -> Users {
        Users(users.into())
    }

    /// The account named `name` (case does not count, as in Asterisk).
    pub fn find(&self, name: &str) -> Option<&User> {
        self.0.iter().find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// Accounts that can log in (non-empty secret).
    pub fn usable(&self) -> usize {
        self.0.iter().filter(|u| !u.secret.is_empty()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> Vec<ipnet::IpNet> {
        vec!["127.0.0.0/8".parse().unwrap()]
    }

    fn local() -> IpAddr {
        "127.0.0.1".parse().unwrap()
    }

    #[test]
    fn a_plain_secret_logs_in_only_when_it_matches_exactly() {
        let user = User::new("admin", "s3cret", ClassSet::ALL, ClassSet::ALL, loopback());
        assert!(user.accepts(Proof::Secret("s3cret"), local()));
        assert!(!user.accepts(Proof::Secret("S3cret"), local()));
        assert!(!user.accepts(Proof::Secret("s3cre"), local()));
    }

    #[test]
    fn an_md5_key_is_hex_md5_of_challenge_then_secret() {
        // md5("123456789" + "mysecret"), computed independently with `printf %s ... | md5sum`.
        assert_eq!(
            md5_key("123456789", "mysecret"),
            "aba26d296bb0ae595d7c90fb8e38e67e"
        );
        let user = User::new(
            "admin",
            "mysecret",
            ClassSet::ALL,
            ClassSet::ALL,
            loopback(),
        );
        let key = md5_key("42", "mysecret").to_uppercase();
        assert!(user.accepts(
            Proof::Md5Key {
                challenge: "42",
                key: &key
            },
            local()
        ));
        assert!(!user.accepts(
            Proof::Md5Key {
                challenge: "43",
                key: &key
            },
            local()
        ));
    }

    #[test]
    fn an_address_outside_permit_or_an_empty_secret_never_logs_in() {
        let user = User::new("admin", "s", ClassSet::ALL, ClassSet::ALL, loopback());
        assert!(!user.accepts(Proof::Secret("s"), "192.0.2.1".parse().unwrap()));
        let disabled = User::new("admin", "", ClassSet::ALL, ClassSet::ALL, loopback());
        assert!(!disabled.accepts(Proof::Secret(""), local()));
    }

    #[test]
    fn user_names_are_found_without_regard_to_case() {
        let users = Users::new(vec![User::new(
            "Admin",
            "s",
            ClassSet::ALL,
            ClassSet::ALL,
            loopback(),
        )]);
        assert!(users.find("admin").is_some());
        assert!(users.find("other").is_none());
        assert_eq!(users.usable(), 1);
    }
}
