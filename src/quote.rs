//! How a value from outside (a config value, a line of input, a server's answer) is
//! shown inside a message: quoted, on one line, control characters escaped, and cut to
//! a length a person can read. A 100 KB value in a config must not become a 100 KB
//! error line, and a stray escape sequence must not reach the terminal or the journal.

/// The most characters of a value a message shows.
pub const MAX_SHOWN: usize = 60;

/// `value` in double quotes, escaped and cut: `"kitchen-pi"`, `"a\u{7}b"`,
/// `"AAAA…" (100000 characters)`.
pub fn quoted(value: &str) -> String {
    let (text, count) = escaped(value, true);
    if count > MAX_SHOWN {
        format!("\"{text}…\" ({count} characters)")
    } else {
        format!("\"{text}\"")
    }
}

/// `value` escaped and cut, without quotes (a path, as messages show paths).
pub fn shown(value: &str) -> String {
    let (text, count) = escaped(value, false);
    if count > MAX_SHOWN {
        format!("{text}… ({count} characters)")
    } else {
        text
    }
}

/// The first [`MAX_SHOWN`] characters escaped, and how many characters there were.
fn escaped(value: &str, quotes: bool) -> (String, usize) {
    let mut text = String::new();
    for c in value.chars().take(MAX_SHOWN) {
        match c {
            '"' if quotes => text.push_str("\\\""),
            '\\' if quotes => text.push_str("\\\\"),
            c if c.is_control() => text.extend(c.escape_default()),
            c => text.push(c),
        }
    }
    (text, value.chars().count())
}

/// `message` with every double-quoted value in it cut and escaped as [`quoted`] does:
/// the safety net at the edge of the config and sink errors, which quote values in many
/// places.
pub fn cut_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4096));
    let mut rest = message;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match closing_quote(after) {
            Some(close) => {
                let inner = after[..close].replace("\\\"", "\"");
                out.push_str(&quoted(&inner));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The byte index of the next `"` not escaped with a backslash.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_as_they_are() {
        assert_eq!(quoted("kitchen-pi"), "\"kitchen-pi\"");
    }

    #[test]
    fn control_characters_and_quotes_are_escaped() {
        assert_eq!(quoted("a\u{1b}[2Jb\n\"c\""), "\"a\\u{1b}[2Jb\\n\\\"c\\\"\"");
    }

    #[test]
    fn quoted_values_in_a_message_are_cut() {
        let message = format!(
            "`server` \"{}\" is a URL; give only the host name",
            "a".repeat(50_000)
        );
        let cut = cut_quoted(&message);
        assert!(cut.len() < 200, "{cut}");
        assert!(
            cut.ends_with("(50000 characters) is a URL; give only the host name"),
            "{cut}"
        );
        assert_eq!(cut_quoted("no quotes"), "no quotes");
        assert_eq!(cut_quoted("`x` \"short\" ok"), "`x` \"short\" ok");
    }

    #[test]
    fn long_values_are_cut_and_say_how_long_they_were() {
        let long = "A".repeat(100_000);
        let shown = quoted(&long);
        assert!(shown.len() < 100, "{shown}");
        assert!(shown.ends_with("…\" (100000 characters)"), "{shown}");
    }
}
