//! serde's and toml's error messages, said the way a person editing a config file
//! thinks: "expected a whole number, found the text \"x\"", not "invalid type:
//! string "x", expected u32". The place (PATH:LINE:COL) is added by the caller.

/// `message` in plain words; a message we do not recognise is kept as it is.
pub fn plain(message: &str, source: &str, offset: usize) -> String {
    let message = message.trim_end();
    if message == "duplicate key" {
        return duplicate(source, offset);
    }
    if message == "integer number overflowed" {
        return "this number is far too large".to_string();
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {}", wanted(expected), value(found));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return match range(expected) {
            Some(range) => format!("{} is out of range: give {range}", value(found)),
            None => format!(
                "{} is not valid here: expected {}",
                value(found),
                wanted(expected)
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return match rest.split_once(", expected one of ") {
            Some((key, allowed)) => {
                format!("unknown key {key}; the keys allowed here are {allowed}")
            }
            None => match rest.split_once(", there are no fields") {
                Some((key, _)) => format!("unknown key {key}; this table takes no keys"),
                None => format!("unknown key {rest}"),
            },
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ")
        && let Some((found, allowed)) = rest.split_once(", expected one of ")
    {
        return format!("{found} is not one of {allowed}");
    }
    if let Some(key) = message.strip_prefix("missing field ") {
        return format!("{key} is missing; add it");
    }
    message.to_string()
}

/// A key or table given twice, named from the text at `offset`.
fn duplicate(source: &str, offset: usize) -> String {
    let line_start = source[..offset.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = source[line_start..]
        .lines()
        .next()
        .unwrap_or_default()
        .trim();
    if let Some(header) = line.strip_prefix("[[") {
        let name = header.split("]]").next().unwrap_or_default().trim();
        return format!("[[{name}]] clashes with a [{name}] table of the same name; use one form");
    }
    if let Some(header) = line.strip_prefix('[') {
        let name = header.split(']').next().unwrap_or_default().trim();
        return format!("the [{name}] table is given twice; merge the two into one");
    }
    let key = line.split('=').next().unwrap_or_default().trim();
    format!("`{key}` is given twice; keep one")
}

/// What a value is, as people write it.
fn value(found: &str) -> String {
    let quoted = |s: &str| s.trim_matches('`').to_string();
    if let Some(n) = found.strip_prefix("integer ") {
        return quoted(n.split(" as ").next().unwrap_or(n));
    }
    if let Some(n) = found.strip_prefix("floating point ") {
        return quoted(n);
    }
    if let Some(b) = found.strip_prefix("boolean ") {
        return quoted(b);
    }
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the text {s}");
    }
    match found {
        "sequence" => "a list".to_string(),
        "map" => "a table".to_string(),
        other => other.to_string(),
    }
}

/// What was wanted, as people say it.
fn wanted(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" => {
            "a whole number".to_string()
        }
        "f32" | "f64" => "a number".to_string(),
        "a sequence" => "a list".to_string(),
        other if other.starts_with("struct ") || other.starts_with("a map") => {
            "a table".to_string()
        }
        other if other.contains("enum") => "a table".to_string(),
        other => other.to_string(),
    }
}

/// The range of an unsigned integer type, said as a person would.
fn range(expected: &str) -> Option<&'static str> {
    Some(match expected {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "usize" => "a whole number, 0 or more",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(message: &str) -> String {
        plain(message, "", 0)
    }

    #[test]
    fn type_errors_name_what_was_wanted_and_found() {
        assert_eq!(
            said("invalid type: string \"x\", expected u32"),
            "expected a whole number, found the text \"x\""
        );
        assert_eq!(
            said("invalid type: floating point `1.5`, expected u32"),
            "expected a whole number, found 1.5"
        );
        assert_eq!(
            said("invalid type: sequence, expected u32"),
            "expected a whole number, found a list"
        );
        assert_eq!(
            said("invalid type: integer `5`, expected struct Button"),
            "expected a table, found 5"
        );
    }

    #[test]
    fn no_rust_type_names_reach_people() {
        assert_eq!(
            said("invalid value: integer `-1`, expected u32"),
            "-1 is out of range: give a whole number from 0 to 4294967295"
        );
        assert_eq!(
            said("invalid value: integer `99999999999999999999` as i128, expected u32"),
            "99999999999999999999 is out of range: give a whole number from 0 to 4294967295"
        );
        assert_eq!(
            said("integer number overflowed"),
            "this number is far too large"
        );
    }

    #[test]
    fn unknown_keys_and_values_list_what_is_allowed() {
        assert_eq!(
            said("unknown field `colour`, expected one of `pin`, `pull`"),
            "unknown key `colour`; the keys allowed here are `pin`, `pull`"
        );
        assert_eq!(
            said("unknown variant `sideways`, expected one of `up`, `down`, `off`"),
            "`sideways` is not one of `up`, `down`, `off`"
        );
        assert_eq!(said("missing field `pin`"), "`pin` is missing; add it");
    }

    #[test]
    fn a_duplicated_table_or_key_is_named() {
        let text = "[button]\npin = 17\n[button]\npin = 18\n";
        let second = text.rfind("[button]").expect("header") + 1;
        assert_eq!(
            plain("duplicate key", text, second),
            "the [button] table is given twice; merge the two into one"
        );
        let text = "[button]\npin = 17\npin = 18\n";
        let key = text.rfind("pin").expect("key");
        assert_eq!(
            plain("duplicate key", text, key),
            "`pin` is given twice; keep one"
        );
    }
}
