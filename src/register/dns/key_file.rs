//! BIND's key file syntax, as `tsig-keygen` and `ddns-confgen` write it:
//! `key "NAME" { algorithm ALG; secret "B64"; };`, with named.conf's comments. It
//! exists so that a mistake in the file is reported at its line, in words a person
//! can act on, without ever quoting what could be the secret.

use super::key::{Algorithm, TsigKey, decode_base64};

/// A mistake in a key file, at its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub problem: Problem,
}

/// What is wrong at that line. Words from the file appear only as [`shown`] makes
/// them: punctuation and keyword-like words, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("a /* comment is never closed")]
    UnclosedComment,
    #[error("a quoted string is not closed on its line")]
    UnclosedQuote,
    #[error("the file ends where {0} should be")]
    EndOfFile(&'static str),
    #[error(
        "expected `key \"NAME\" {{`, found {0}; a key file holds only key blocks as tsig-keygen writes them"
    )]
    NotAKeyBlock(String),
    #[error("expected the key's name, found {0}")]
    NoKeyName(String),
    #[error("expected {expected}, found {found}")]
    Expected {
        expected: &'static str,
        found: String,
    },
    #[error("expected `algorithm`, `secret` or `}}`, found {0}")]
    NoSetting(String),
    #[error("expected a value for {setting}, found {found}")]
    NoValue { setting: String, found: String },
    #[error(
        "algorithm {0} is not supported; use hmac-sha256, hmac-sha384 or hmac-sha512 (tsig-keygen -a hmac-sha256 NAME)"
    )]
    UnsupportedAlgorithm(String),
    #[error("the secret is empty; copy it again from the DNS server")]
    EmptySecret,
    #[error("the secret is not valid base64; copy it again from the DNS server")]
    BadSecret,
    #[error("unknown key setting {0}; a key has `algorithm` and `secret`")]
    UnknownSetting(String),
    #[error("key \"{key}\" has no `{setting}`")]
    Missing { key: String, setting: &'static str },
}

fn at(line: usize, problem: Problem) -> SyntaxError {
    SyntaxError { line, problem }
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
fn tokens(text: &str) -> Result<Vec<(usize, Token)>, SyntaxError> {
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
                        None => return Err(at(start, Problem::UnclosedComment)),
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
                        Some('\n') | None => return Err(at(start, Problem::UnclosedQuote)),
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

/// Parses every `key NAME { algorithm ALG; secret "B64"; };` block. Other top-level
/// statements are an error too (this is a key file, not a whole named.conf).
pub fn parse(text: &str) -> Result<Vec<TsigKey>, SyntaxError> {
    let tokens = tokens(text)?;
    let last_line = tokens.last().map_or(1, |(l, _)| *l);
    let mut it = tokens.into_iter().peekable();
    let mut keys = Vec::new();
    let mut next = |what: &'static str| -> Result<(usize, Token), SyntaxError> {
        it.next()
            .ok_or_else(|| at(last_line, Problem::EndOfFile(what)))
    };
    while let Ok((line, token)) = next("a `key` block") {
        match token {
            Token::Word(w) if w == "key" => {}
            other => return Err(at(line, Problem::NotAKeyBlock(describe(&other)))),
        }
        let (line, name) = next("the key's name")?;
        let name = match name {
            Token::Word(n) | Token::Quoted(n) => n,
            other => return Err(at(line, Problem::NoKeyName(describe(&other)))),
        };
        expect(next("`{`")?, Token::Open, "`{` after the key's name")?;
        let mut algorithm = None;
        let mut secret = None;
        loop {
            let (line, token) = next("`};` closing the key block")?;
            let field = match token {
                Token::Close => break,
                Token::Word(w) => w,
                other => return Err(at(line, Problem::NoSetting(describe(&other)))),
            };
            let (vline, value) = next("a value")?;
            let value = match value {
                Token::Word(v) | Token::Quoted(v) => v,
                other => {
                    return Err(at(
                        vline,
                        Problem::NoValue {
                            setting: shown(&field),
                            found: describe(&other),
                        },
                    ));
                }
            };
            expect(next("`;`")?, Token::Semi, "`;` after the value")?;
            match field.as_str() {
                "algorithm" => {
                    algorithm =
                        Some(Algorithm::parse(&value).ok_or_else(|| {
                            at(vline, Problem::UnsupportedAlgorithm(shown(&value)))
                        })?);
                }
                "secret" if value.trim().is_empty() => {
                    return Err(at(vline, Problem::EmptySecret));
                }
                "secret" => {
                    secret =
                        Some(decode_base64(&value).ok_or_else(|| at(vline, Problem::BadSecret))?);
                }
                other => return Err(at(line, Problem::UnknownSetting(shown(other)))),
            }
        }
        expect(next("`;`")?, Token::Semi, "`;` after the key block's `}`")?;
        // Reported at the line of the key's name.
        let missing = |setting: &'static str| {
            at(
                line,
                Problem::Missing {
                    key: name.clone(),
                    setting,
                },
            )
        };
        let algorithm = algorithm.ok_or_else(|| missing("algorithm"))?;
        let secret = secret.ok_or_else(|| missing("secret"))?;
        keys.push(TsigKey::new(name, algorithm, secret));
    }
    Ok(keys)
}

fn expect(got: (usize, Token), want: Token, what: &'static str) -> Result<(), SyntaxError> {
    if got.1 == want {
        Ok(())
    } else {
        Err(at(
            got.0,
            Problem::Expected {
                expected: what,
                found: describe(&got.1),
            },
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
pub(super) mod tests {
    use super::*;

    pub(in crate::register::dns) const TSIG_KEYGEN: &str = "key \"daas-kitchen\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\";\n};\n";

    #[test]
    fn reads_what_tsig_keygen_writes() {
        let keys = parse(TSIG_KEYGEN).expect("parses");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].name, "daas-kitchen");
        assert_eq!(keys[0].algorithm, Algorithm::HmacSha256);
        assert_eq!(keys[0].secret(), b"secret-secret-secret-secret-1234");
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
            let err = parse(text).expect_err(text);
            let m = err.problem.to_string();
            assert_eq!(err.line, line, "{text}: {m}");
            assert!(m.contains(message), "{text}: {m}");
        }
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
            let message = parse(text).expect_err(text).problem.to_string();
            assert!(!message.contains("c2VjcmV0"), "{message}");
        }
        let message = parse("key \"a\" {\n algoritm hmac-sha256;\n};")
            .expect_err("typo")
            .problem
            .to_string();
        assert!(
            message.contains("unknown key setting `algoritm`"),
            "{message}"
        );
    }
}
