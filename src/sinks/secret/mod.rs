//! Secrets: passwords and webhook URLs (a webhook URL *is* a secret — anyone who has
//! it can post to the room).
//!
//! A secret is given inline, as `*_file` (read once when the sink is built; systemd
//! credentials work this way) or as `*_env`. [`Secret`] never prints its value, and
//! [`Redactor`] scrubs secret values out of any error text before it reaches a log,
//! an event line or the `notify` table.
//!
//! Reading a `*_file` cannot hurt the daemon: only a regular file is read (a FIFO
//! would block start-up forever, `/dev/zero` would fill the memory), and only up to
//! [`MAX_SECRET_FILE`]. A value that is not a path or a variable name — most likely
//! the secret itself, put in the wrong key — is never repeated in an error.

mod redact;

use std::fmt;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub use redact::Redactor;

/// The largest `*_file` read: far more than any password or webhook URL.
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// A secret as written in the config: exactly one of inline, file or environment
/// variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretSpec {
    /// The key's base name, e.g. `url` or `password`.
    pub key: &'static str,
    pub inline: Option<String>,
    pub file: Option<PathBuf>,
    pub env: Option<String>,
}

impl SecretSpec {
    /// The key the secret is written as (`url`, `url_file` or `url_env`): where an error
    /// about it points. `None` when none is written; the first when more than one is.
    pub fn written_key(&self) -> Option<String> {
        if self.inline.is_some() {
            Some(self.key.to_string())
        } else if self.file.is_some() {
            Some(format!("{}_file", self.key))
        } else if self.env.is_some() {
            Some(format!("{}_env", self.key))
        } else {
            None
        }
    }
}

/// A secret value. Its `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a secret could not be had. The messages name the key and where the secret
/// was to come from, never its value (nor a value that may be the secret put in the
/// wrong key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("no `{key}`; give one of `{key}`, `{key}_file` or `{key}_env`")]
    Missing { key: &'static str },
    #[error("give only one of `{key}`, `{key}_file` and `{key}_env`")]
    MoreThanOne { key: &'static str },
    #[error(
        "`{key}_file` is not a path (it looks like the {key} itself): put the {key} in a file \
         and give that file's path, or give it as `{key}`"
    )]
    NotAPath { key: &'static str },
    #[error(
        "`{key}_env` is not the name of an environment variable (letters, digits and `_`; it \
         looks like the {key} itself): give the variable's name, or the {key} as `{key}`"
    )]
    NotAVariable { key: &'static str },
    #[error(
        "cannot read `{key}_file` {path}: {cause}; check the path and that the daas user may read it"
    )]
    Unreadable {
        key: &'static str,
        path: String,
        cause: String,
    },
    #[error(
        "`{key}_file` {path} is not a regular file (a pipe, a device or a directory); give the \
         path of a file that holds the {key}"
    )]
    NotAFile { key: &'static str, path: String },
    #[error(
        "`{key}_file` {path} is {size} bytes, more than a {key} can be ({max} KiB at most); is \
         it the right file?"
    )]
    TooLarge {
        key: &'static str,
        path: String,
        size: u64,
        max: u64,
    },
    #[error("`{key}_file` {path} is not UTF-8 text; save it as UTF-8")]
    NotText { key: &'static str, path: String },
    #[error(
        "`{key}_env` names ${var}, which is not set (or not UTF-8); set it in the service's environment"
    )]
    Unset { key: &'static str, var: String },
    #[error("`{key}` is empty; give the {key}")]
    Empty { key: &'static str },
    #[error("`{key}_file` {path} is empty; put the {key} in it")]
    EmptyFile { key: &'static str, path: String },
    #[error("`{key}_env` names ${var}, which is empty; set it to the {key}")]
    EmptyVariable { key: &'static str, var: String },
}

impl SecretError {
    /// The secret's base name (`url`, `password`).
    pub fn key(&self) -> &'static str {
        match self {
            SecretError::Missing { key }
            | SecretError::MoreThanOne { key }
            | SecretError::NotAPath { key }
            | SecretError::NotAVariable { key }
            | SecretError::Unreadable { key, .. }
            | SecretError::NotAFile { key, .. }
            | SecretError::TooLarge { key, .. }
            | SecretError::NotText { key, .. }
            | SecretError::Unset { key, .. }
            | SecretError::Empty { key }
            | SecretError::EmptyFile { key, .. }
            | SecretError::EmptyVariable { key, .. } => key,
        }
    }
}

/// Reads a secret from wherever the config says it is.
pub fn resolve(spec: &SecretSpec) -> Result<Secret, SecretError> {
    let key = spec.key;
    // Only white space counts as empty too: no password or URL is blank.
    let filled = |value: String, empty: SecretError| {
        if value.trim().is_empty() {
            Err(empty)
        } else {
            Ok(Secret(value))
        }
    };
    match (&spec.inline, &spec.file, &spec.env) {
        (Some(inline), None, None) => filled(inline.clone(), SecretError::Empty { key }),
        (None, Some(path), None) => filled(
            read_file(key, path)?,
            SecretError::EmptyFile {
                key,
                path: crate::quote::shown(&path.display().to_string()),
            },
        ),
        (None, None, Some(var)) => {
            if !is_variable_name(var) {
                return Err(SecretError::NotAVariable { key });
            }
            let value = std::env::var(var).map_err(|_| SecretError::Unset {
                key,
                var: var.clone(),
            })?;
            filled(
                value,
                SecretError::EmptyVariable {
                    key,
                    var: var.clone(),
                },
            )
        }
        (None, None, None) => Err(SecretError::Missing { key }),
        _ => Err(SecretError::MoreThanOne { key }),
    }
}

/// An environment variable name as shells and systemd take them.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `*_file` value that cannot be a path: a URL, or something with a line break.
fn looks_like_a_secret(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.contains("://") || text.contains(['\n', '\r'])
}

/// Reads a regular file of at most [`MAX_SECRET_FILE`] bytes, without blocking on a
/// pipe: `O_NONBLOCK` makes opening a FIFO with no writer return at once.
fn read_file(key: &'static str, path: &Path) -> Result<String, SecretError> {
    if looks_like_a_secret(path) {
        return Err(SecretError::NotAPath { key });
    }
    let shown = || crate::quote::shown(&path.display().to_string());
    let unreadable = |cause: std::io::Error| SecretError::Unreadable {
        key,
        path: shown(),
        cause: cause.to_string(),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(SecretError::NotAFile { key, path: shown() });
    }
    if meta.len() > MAX_SECRET_FILE {
        return Err(SecretError::TooLarge {
            key,
            path: shown(),
            size: meta.len(),
            max: MAX_SECRET_FILE / 1024,
        });
    }
    let mut bytes = Vec::new();
    // Bounded even if the file grows between the check and the read.
    file.take(MAX_SECRET_FILE)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let text = String::from_utf8(bytes).map_err(|_| SecretError::NotText { key, path: shown() })?;
    // Files written by editors and `echo` end in a newline that is not part of the secret.
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(test)]
mod tests;
