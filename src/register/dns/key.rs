//! The TSIG key that signs the update: read from a key file in BIND's format (as
//! `tsig-keygen` and `ddns-confgen` write it), or from an environment variable.
//!
//! The secret never leaves this file except as the `TSigner` that signs: `Debug`
//! leaves it out, and errors name the file, line and key, never the secret.

use std::fmt;
use std::path::{Path, PathBuf};

use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{Name, TSigner};

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

/// What is wrong with the key or where it comes from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the TSIG key file {}: {source}; give the right file with --key FILE (or `key_file` in [register])", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
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
    /// The signer for hickory, with BIND's 300 s fudge.
    pub fn signer(&self) -> Result<TSigner, KeyError> {
        let name = Name::from_ascii(&self.name)
            .map_err(|e| KeyError::Name(self.name.clone(), e.to_string()))?;
        TSigner::new(self.secret.clone(), self.algorithm.tsig(), name, FUDGE_S)
            .map_err(|e| KeyError::Algorithm(e.to_string()))
    }

    /// Reads the key file at `path`; `wanted` picks a key by name when it has several.
    pub fn from_file(path: &Path, wanted: Option<&str>) -> Result<TsigKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let keys = parse(&text).map_err(|(line, message)| KeyError::Malformed {
            path: path.to_path_buf(),
            line,
            message,
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
        Ok(TsigKey {
            name: name.to_string(),
            algorithm,
            secret,
        })
    }
}

/// Key names compare as DNS names: case-insensitive, trailing dot optional.
fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.split_whitespace().collect();
    data_encoding::BASE64.decode(compact.as_bytes()).ok()
}

/// One token of named.conf syntax, with its line.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
    Semi,
}

/// Splits named.conf text into tokens, dropping `#`, `//` and `/* */` comments.
fn tokens(text: &str) -> Result<Vec<(usize, Token)>, (usize, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => skip_line(&mut chars, &mut line),
            '/' if chars.peek() == Some(&'/') => skip_line(&mut chars, &mut line),
            '/' if chars.peek() == Some(&'*') => {
                let start = line;
                chars.next();
                let mut prev = ' ';
                loop {
                    match chars.next() {
                        Some('/') if prev == '*' => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            prev = c;
                        }
                        None => return Err((start, "a /* comment is never closed".into())),
                    }
                }
            }
            '{' => out.push((line, Token::Open)),
            '}' => out.push((line, Token::Close)),
            ';' => out.push((line, Token::Semi)),
            '"' => {
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\n') | None => {
                            return Err((
                                start,
                                "a quoted string is not closed on its line".into(),
                            ));
                        }
                        Some(c) => s.push(c),
                    }
                }
                out.push((line, Token::Quoted(s)));
            }
            c => {
                let mut s = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || matches!(n, '{' | '}' | ';' | '"') {
                        break;
                    }
                    s.push(n);
                    chars.next();
                }
                out.push((line, Token::Word(s)));
            }
        }
    }
    Ok(out)
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, line: &mut usize) {
    for c in chars.by_ref() {
        if c == '\n' {
            *line += 1;
            break;
        }
    }
}

/// Parses every `key NAME { algorithm ALG; secret "B64"; };` block. Errors are
/// `(line, message)`; other top-level statements are an error too (this is a key
/// file, not a whole named.conf).
fn parse(text: &str) -> Result<Vec<TsigKey>, (usize, String)> {
    let tokens = tokens(text)?;
    let last_line = tokens.last().map_or(1, |(l, _)| *l);
    let mut it = tokens.into_iter().peekable();
    let mut keys = Vec::new();
    let mut next = |what: &str| -> Result<(usize, Token), (usize, String)> {
        it.next()
            .ok_or_else(|| (last_line, format!("the file ends where {what} should be")))
    };
    while let Ok((line, token)) = next("a `key` block") {
        match token {
            Token::Word(w) if w == "key" => {}
            other => {
                return Err((
                    line,
                    format!(
                        "expected `key \"NAME\" {{`, found {}; a key file holds only key blocks as tsig-keygen writes them",
                        describe(&other)
                    ),
                ));
            }
        }
        let (line, name) = next("the key's name")?;
        let name = match name {
            Token::Word(n) | Token::Quoted(n) => n,
            other => {
                return Err((
                    line,
                    format!("expected the key's name, found {}", describe(&other)),
                ));
            }
        };
        expect(next("`{`")?, Token::Open, "`{` after the key's name")?;
        let mut algorithm = None;
        let mut secret = None;
        loop {
            let (line, token) = next("`};` closing the key block")?;
            let field = match token {
                Token::Close => break,
                Token::Word(w) => w,
                other => {
                    return Err((
                        line,
                        format!(
                            "expected `algorithm`, `secret` or `}}`, found {}",
                            describe(&other)
                        ),
                    ));
                }
            };
            let (vline, value) = next("a value")?;
            let value = match value {
                Token::Word(v) | Token::Quoted(v) => v,
                other => {
                    return Err((
                        vline,
                        format!(
                            "expected a value for {}, found {}",
                            shown(&field),
                            describe(&other)
                        ),
                    ));
                }
            };
            expect(next("`;`")?, Token::Semi, "`;` after the value")?;
            match field.as_str() {
                "algorithm" => {
                    algorithm = Some(Algorithm::parse(&value).ok_or_else(|| {
                        (
                            vline,
                            format!(
                                "algorithm {} is not supported; use hmac-sha256, hmac-sha384 or hmac-sha512 (tsig-keygen -a hmac-sha256 NAME)",
                                shown(&value)
                            ),
                        )
                    })?);
                }
                "secret" if value.trim().is_empty() => {
                    return Err((
                        vline,
                        "the secret is empty; copy it again from the DNS server".to_string(),
                    ));
                }
                "secret" => {
                    secret = Some(decode_base64(&value).ok_or_else(|| {
                        (
                            vline,
                            "the secret is not valid base64; copy it again from the DNS server"
                                .to_string(),
                        )
                    })?);
                }
                other => {
                    return Err((
                        line,
                        format!(
                            "unknown key setting {}; a key has `algorithm` and `secret`",
                            shown(other)
                        ),
                    ));
                }
            }
        }
        expect(next("`;`")?, Token::Semi, "`;` after the key block's `}`")?;
        let missing = |what: &str| (line, format!("key \"{name}\" has no `{what}`"));
        keys.push(TsigKey {
            algorithm: algorithm.ok_or_else(|| missing("algorithm"))?,
            secret: secret.ok_or_else(|| missing("secret"))?,
            name,
        });
    }
    Ok(keys)
}

fn expect(got: (usize, Token), want: Token, what: &str) -> Result<(), (usize, String)> {
    if got.1 == want {
        Ok(())
    } else {
        Err((
            got.0,
            format!("expected {what}, found {}", describe(&got.1)),
        ))
    }
}

/// Names a token for an error message without quoting what could be the secret:
/// punctuation, and words that look like a setting's name (a typo such as
/// `algoritm`), are shown; anything else is only said to be a word or a string.
fn describe(token: &Token) -> String {
    match token {
        Token::Word(w) => shown(w),
        Token::Quoted(_) => "a quoted string".into(),
        Token::Open => "`{`".into(),
        Token::Close => "`}`".into(),
        Token::Semi => "`;`".into(),
    }
}

/// `word` in backticks when it looks like a keyword (lowercase letters, digits and
/// hyphens, at most 20), else "a word": a base64 secret never looks like that.
fn shown(word: &str) -> String {
    let keyword_like = (1..=20).contains(&word.len())
        && word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if keyword_like {
        format!("`{word}`")
    } else {
        "a word".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSIG_KEYGEN: &str = "key \"daas-kitchen\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\";\n};\n";

    #[test]
    fn reads_what_tsig_keygen_writes() {
        let keys = parse(TSIG_KEYGEN).expect("parses");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].name, "daas-kitchen");
        assert_eq!(keys[0].algorithm, Algorithm::HmacSha256);
        assert_eq!(keys[0].secret, b"secret-secret-secret-secret-1234");
        assert!(keys[0].signer().is_ok());
    }

    #[test]
    fn comments_and_unquoted_names_are_fine() {
        let text = "# made by hand\n// another\n/* a\nblock */ key k2 { algorithm HMAC-SHA512.; secret \"AAAA\"; };";
        let keys = parse(text).expect("parses");
        assert_eq!(keys[0].name, "k2");
        assert_eq!(keys[0].algorithm, Algorithm::HmacSha512);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "key \"a\" {\n algorithm hmac-md5;\n secret \"AAAA\";\n};",
                2,
                "not supported",
            ),
            (
                "key \"a\" {\n algorithm hmac-sha256;\n secret \"%%%\";\n};",
                3,
                "not valid base64",
            ),
            ("key \"a\" {\n algorithm hmac-sha256;\n};", 1, "no `secret`"),
            (
                "key \"a\" {\n algorithm hmac-sha256\n secret \"AAAA\";\n};",
                3,
                "expected `;`",
            ),
            ("options { };", 1, "only key blocks"),
            ("key \"a\" {\n algorithm hmac-sha256;\n", 2, "the file ends"),
            ("key \"a {\n", 1, "not closed"),
        ];
        for (text, line, message) in cases {
            let (l, m) = parse(text).expect_err(text);
            assert_eq!(l, line, "{text}: {m}");
            assert!(m.contains(message), "{text}: {m}");
        }
    }

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
    fn parse_errors_never_quote_the_secret() {
        const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=";
        let mistakes = [
            format!("{SECRET}\n"),
            format!("key \"a\" {{\n algorithm hmac-sha256;\n secret = \"{SECRET}\";\n}};"),
            format!("key \"a\" {{\n {SECRET};\n}};"),
            format!("key \"a\" {{\n algorithm {SECRET};\n}};"),
            format!("key \"a\" {{\n secret \"{SECRET}\"\n}};"),
            "key \"a\" {\n algorithm hmac-sha256;\n secret \"\";\n};".to_string(),
        ];
        for text in &mistakes {
            let (_, message) = parse(text).expect_err(text);
            assert!(!message.contains("c2VjcmV0"), "{message}");
        }
        let (_, message) = parse("key \"a\" {\n algoritm hmac-sha256;\n};").expect_err("typo");
        assert!(
            message.contains("unknown key setting `algoritm`"),
            "{message}"
        );
    }

    #[test]
    fn debug_and_errors_never_show_the_secret() {
        let key = parse(TSIG_KEYGEN).expect("parses").remove(0);
        let shown = format!("{key:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("daas-kitchen"));
    }
}
