//! The TSIG key that signs the update, and where it comes from: a key file in
//! BIND's format (as `tsig-keygen` and `ddns-confgen` write it; parsed in
//! `key_file.rs`), or an environment variable holding the secret.
//!
//! The secret never leaves this file except as the `TSigner` that signs: `Debug`
//! leaves it out, and errors name the file, line and key, never the secret.

use std::fmt;
use std::path::{Path, PathBuf};

use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{Name, TSigner};

use super::key_file::{self, SyntaxError};

/// How far apart the Pi's clock and the server's may be (BIND's default fudge).
const FUDGE_S: u16 = 300;

/// An HMAC algorithm daas signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Algorithm {
    /// Parses BIND's name for it (`hmac-sha256`, with or without a trailing dot).
    pub fn parse(text: &str) -> Option<Algorithm> {
        match text.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            "hmac-sha384" => Some(Algorithm::HmacSha384),
            "hmac-sha512" => Some(Algorithm::HmacSha512),
            _ => None,
        }
    }

    /// BIND's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    fn tsig(self) -> TsigAlgorithm {
        match self {
            Algorithm::HmacSha256 => TsigAlgorithm::HmacSha256,
            Algorithm::HmacSha384 => TsigAlgorithm::HmacSha384,
            Algorithm::HmacSha512 => TsigAlgorithm::HmacSha512,
        }
    }
}

/// A named TSIG key.
#[derive(Clone)]
pub struct TsigKey {
    /// The key's name, as the server knows it (`key "NAME" { … }` in named.conf).
    pub name: String,
    pub algorithm: Algorithm,
    secret: Vec<u8>,
}

impl fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Where the key is to be read from, as the flags and `[register]` say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file; `name` picks one key when it has several.
    File { path: PathBuf, name: Option<String> },
    /// The base64 secret in an environment variable; the name and algorithm come
    /// from flags (`name` is required, and checked when the key is read).
    Env {
        var: String,
        name: Option<String>,
        algorithm: String,
    },
}

impl KeySource {
    /// Reads the key.
    pub fn read(&self) -> Result<TsigKey, KeyError> {
        match self {
            KeySource::File { path, name } => TsigKey::from_file(path, name.as_deref()),
            KeySource::Env {
                var,
                name,
                algorithm,
            } => TsigKey::from_env(var, name.as_deref(), algorithm),
        }
    }
}

/// What is wrong with the key or where it comes from. All are the user's to fix
/// (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the TSIG key file {}: {cause}; give the right file with --key FILE (or `key_file` in [register])", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{}:{}: {}", path.display(), error.line, error.problem)]
    Malformed { path: PathBuf, error: SyntaxError },
    #[error("{} has no `key` block; write one with `tsig-keygen -a hmac-sha256 NAME > FILE`", path.display())]
    NoKey { path: PathBuf },
    #[error("{} has several keys ({}); pick one with --key-name NAME", path.display(), names.join(", "))]
    Ambiguous { path: PathBuf, names: Vec<String> },
    #[error("{} has no key named \"{wanted}\" (it has: {}); fix --key-name", path.display(), names.join(", "))]
    NotFound {
        path: PathBuf,
        wanted: String,
        names: Vec<String>,
    },
    #[error(
        "the environment variable {var} is not set (or not UTF-8); export the key's base64 secret in it, or use --key FILE"
    )]
    EnvMissing { var: String },
    #[error(
        "the environment variable {var} is not valid base64; it must hold the `secret` of a key as `tsig-keygen` prints it"
    )]
    EnvBase64 { var: String },
    #[error("--key-secret-env needs --key-name: the name of the key as the DNS server knows it")]
    EnvNeedsName,
    #[error("unknown TSIG algorithm \"{0}\"; use hmac-sha256, hmac-sha384 or hmac-sha512")]
    Algorithm(String),
    #[error("\"{0}\" is not a valid key name: {1}")]
    Name(String, String),
}

impl TsigKey {
    /// A key from its parts (the key file parser makes them).
    pub(super) fn new(name: String, algorithm: Algorithm, secret: Vec<u8>) -> TsigKey {
        TsigKey {
            name,
            algorithm,
            secret,
        }
    }

    /// The signer for hickory, with BIND's 300 s fudge.
    pub fn signer(&self) -> Result<TSigner, KeyError> {
        let name = Name::from_ascii(&self.name)
            .map_err(|e| KeyError::Name(self.name.clone(), e.to_string()))?;
        TSigner::new(self.secret.clone(), self.algorithm.tsig(), name, FUDGE_S)
            .map_err(|e| KeyError::Algorithm(e.to_string()))
    }

    /// Reads the key file at `path`; `wanted` picks a key by name when it has several.
    pub fn from_file(path: &Path, wanted: Option<&str>) -> Result<TsigKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|cause| KeyError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        let keys = key_file::parse(&text).map_err(|error| KeyError::Malformed {
            path: path.to_path_buf(),
            error,
        })?;
        let names = || keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        match wanted {
            Some(wanted) => match keys.iter().find(|k| same_name(&k.name, wanted)) {
                Some(key) => Ok(key.clone()),
                None => Err(KeyError::NotFound {
                    path: path.to_path_buf(),
                    wanted: wanted.to_string(),
                    names: names(),
                }),
            },
            None => match keys.as_slice() {
                [] => Err(KeyError::NoKey {
                    path: path.to_path_buf(),
                }),
                [key] => Ok(key.clone()),
                _ => Err(KeyError::Ambiguous {
                    path: path.to_path_buf(),
                    names: names(),
                }),
            },
        }
    }

    /// A key whose secret is in the environment variable `var`.
    pub fn from_env(var: &str, name: Option<&str>, algorithm: &str) -> Result<TsigKey, KeyError> {
        let name = name.ok_or(KeyError::EnvNeedsName)?;
        let algorithm = Algorithm::parse(algorithm)
            .ok_or_else(|| KeyError::Algorithm(algorithm.to_string()))?;
        let value = std::env::var(var).map_err(|_| KeyError::EnvMissing {
            var: var.to_string(),
        })?;
        let secret = decode_base64(&value)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| KeyError::EnvBase64 {
                var: var.to_string(),
            })?;
        Ok(TsigKey::new(name.to_string(), algorithm, secret))
    }

    /// The secret, for the parser's tests only.
    #[cfg(test)]
    pub(super) fn secret(&self) -> &[u8] {
        &self.secret
    }
}

/// Key names compare as DNS names: case-insensitive, trailing dot optional.
fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// A base64 secret, whitespace (a secret split over lines) ignored.
pub(super) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    data_encoding::BASE64.decode(compact.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::super::key_file::tests::TSIG_KEYGEN;
    use super::*;

    #[test]
    fn picks_a_key_by_name_from_a_file_with_several() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("keys.conf");
        let two =
            format!("{TSIG_KEYGEN}key other {{ algorithm hmac-sha384; secret \"AAAA\"; }};\n");
        std::fs::write(&path, two).expect("write");
        let err = TsigKey::from_file(&path, None).expect_err("ambiguous");
        assert!(err.to_string().contains("--key-name"), "{err}");
        let key = TsigKey::from_file(&path, Some("OTHER.")).expect("by name");
        assert_eq!(key.algorithm, Algorithm::HmacSha384);
        let err = TsigKey::from_file(&path, Some("nope")).expect_err("missing");
        assert!(err.to_string().contains("daas-kitchen, other"), "{err}");
    }

    #[test]
    fn an_unreadable_file_says_its_cause_once() {
        let err = TsigKey::from_file(Path::new("/nonexistent/key"), None).expect_err("no file");
        let text = err.to_string();
        assert!(
            text.starts_with("cannot read the TSIG key file /nonexistent/key: "),
            "{text}"
        );
        assert_eq!(text.matches("os error").count(), 1, "{text}");
        assert!(std::error::Error::source(&err).is_none());
    }

    #[test]
    fn a_malformed_file_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.conf");
        std::fs::write(
            &path,
            "key \"a\" {\n algorithm hmac-md5;\n secret \"AAAA\";\n};\n",
        )
        .expect("write");
        let err = TsigKey::from_file(&path, None).expect_err("md5");
        assert!(
            err.to_string().starts_with(&format!(
                "{}:2: algorithm `hmac-md5` is not supported",
                path.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_secret() {
        let key = key_file::parse(TSIG_KEYGEN).expect("parses").remove(0);
        let shown = format!("{key:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("daas-kitchen"));
    }

    #[test]
    fn an_environment_key_needs_a_name_and_a_known_algorithm() {
        assert!(matches!(
            TsigKey::from_env("DAAS_TEST_NO_SUCH_VAR", None, "hmac-sha256"),
            Err(KeyError::EnvNeedsName)
        ));
        assert!(matches!(
            TsigKey::from_env("DAAS_TEST_NO_SUCH_VAR", Some("k"), "hmac-md5"),
            Err(KeyError::Algorithm(_))
        ));
        assert!(matches!(
            TsigKey::from_env("DAAS_TEST_NO_SUCH_VAR", Some("k"), "hmac-sha256"),
            Err(KeyError::EnvMissing { .. })
        ));
    }
}
