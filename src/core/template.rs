//! Message templates: `{device}`, `{time}`, `{date}`, `{weekday}` and `{action}` in an
//! action's subject and body, filled in when the announcement is made. The generic
//! webhook's body template uses the same syntax with its own placeholders
//! ([`check_with`], [`render_with`]).
//!
//! `{{` and `}}` stand for literal braces. Unknown placeholders are caught when the
//! config is checked ([`check`]), so rendering never fails.

/// The placeholders a template may use. `{who}` (whose rota turn it is) is filled in
/// when the announcement is made ([`fill`]), the others at each send.
pub const PLACEHOLDERS: [&str; 6] = ["device", "time", "date", "weekday", "action", "who"];

/// What `{who}` says when nobody's rota turn is today (or the date is not known).
pub const NOBODY: &str = "Someone";

/// The values placeholders stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    pub device: &'a str,
    pub time: &'a str,
    pub date: &'a str,
    pub weekday: &'a str,
    pub action: &'a str,
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "device" => self.device,
            "time" => self.time,
            "date" => self.date,
            "weekday" => self.weekday,
            "action" => self.action,
            "who" => NOBODY,
            _ => return None,
        })
    }
}

/// A piece of a parsed template.
enum Piece<'t> {
    Text(&'t str),
    Placeholder(&'t str),
}

/// Why a template is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder `{{{0}}}`; known ones are {1} (write `{{{{` for a literal brace)")]
    Unknown(String, String),
}

/// The name inside `{…}` at the start of `tail`, if it looks like a placeholder.
fn placeholder_name(tail: &str) -> Option<&str> {
    let inside = tail.strip_prefix('{')?;
    let name = &inside[..inside.find('}')?];
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    is_name.then_some(name)
}

/// Splits a template into text and placeholders. `{name}` (lower-case letters, digits,
/// `_`) is a placeholder and must be known; `{{` and `}}` are literal braces; any
/// other brace is literal too, so a JSON body template reads naturally.
fn parse<'t>(template: &'t str, allowed: &[&str]) -> Result<Vec<Piece<'t>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            pieces.push(Piece::Text(&rest[..i]));
        }
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            pieces.push(Piece::Text(&tail[..1]));
            rest = after;
        } else if let Some(name) = placeholder_name(tail) {
            if !allowed.contains(&name) {
                let known: Vec<String> = allowed.iter().map(|p| format!("{{{p}}}")).collect();
                return Err(TemplateError::Unknown(name.to_string(), known.join(", ")));
            }
            pieces.push(Piece::Placeholder(name));
            rest = &tail[name.len() + 2..];
        } else {
            pieces.push(Piece::Text(&tail[..1]));
            rest = &tail[1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Checks that an action template only uses known placeholders.
/// `template` with `{name}` replaced by `value` and everything else kept as a
/// template: other placeholders stay, literal braces stay escaped, and braces in
/// `value` are escaped, so a later [`render`] reads it exactly as written.
pub fn fill(template: &str, name: &str, value: &str) -> String {
    let Ok(pieces) = parse(template, &PLACEHOLDERS) else {
        return template.to_string();
    };
    let escape = |text: &str| text.replace('{', "{{").replace('}', "}}");
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => escape(text),
            Piece::Placeholder(p) if p == name => escape(value),
            Piece::Placeholder(p) => format!("{{{p}}}"),
        })
        .collect()
}

pub fn check(template: &str) -> Result<(), TemplateError> {
    check_with(template, &PLACEHOLDERS)
}

/// Checks a template against its own set of placeholders.
pub fn check_with(template: &str, allowed: &[&str]) -> Result<(), TemplateError> {
    parse(template, allowed).map(|_| ())
}

/// Fills in an action template. A template that [`check`] rejects is returned as it is.
pub fn render(template: &str, fields: &Fields<'_>) -> String {
    render_with(template, &PLACEHOLDERS, |name| {
        fields.get(name).unwrap_or_default().to_string()
    })
}

/// Fills in a template, asking `value` for each placeholder in `allowed`.
pub fn render_with(template: &str, allowed: &[&str], value: impl Fn(&str) -> String) -> String {
    let Ok(pieces) = parse(template, allowed) else {
        return template.to_string();
    };
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.to_string(),
            Piece::Placeholder(name) => value(name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: Fields<'static> = Fields {
        device: "3rd floor kitchen",
        time: "10:03",
        date: "27 November 2026",
        weekday: "Friday",
        action: "arrival",
    };

    #[test]
    fn fills_every_placeholder() {
        assert_eq!(
            render("{action}: {device} {weekday} {date} {time}", &FIELDS),
            "arrival: 3rd floor kitchen Friday 27 November 2026 10:03"
        );
    }

    #[test]
    fn who_is_filled_first_and_the_rest_renders_as_written() {
        let filled = fill(
            "{who} brought doughnuts to the {device} {{at}} {time}",
            "who",
            "Al {x}",
        );
        assert_eq!(
            filled,
            "Al {{x}} brought doughnuts to the {device} {{at}} {time}"
        );
        assert_eq!(
            render(&filled, &FIELDS),
            "Al {x} brought doughnuts to the 3rd floor kitchen {at} 10:03"
        );
        assert_eq!(render("{who} did", &FIELDS), "Someone did");
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(
            render("{{device}} is {device} 🍩", &FIELDS),
            "{device} is 3rd floor kitchen 🍩"
        );
    }

    #[test]
    fn rejects_unknown_placeholders() {
        let unknown = check("at {hour}").expect_err("unknown").to_string();
        assert_eq!(
            unknown,
            "unknown placeholder `{hour}`; known ones are {device}, {time}, {date}, {weekday}, {action}, {who} (write `{{` for a literal brace)"
        );
        assert_eq!(check("at {time} {{ok}}"), Ok(()));
    }

    proptest::proptest! {
        /// Any text renders without panicking, and text without braces is unchanged.
        #[test]
        fn any_text_renders(text in "\\PC*") {
            let out = render(&text, &FIELDS);
            if !text.contains(['{', '}']) {
                proptest::prop_assert_eq!(out, text);
            }
        }
    }

    #[test]
    fn braces_that_are_not_placeholders_stay_literal() {
        assert_eq!(render("{ \"a\": {time} }", &FIELDS), "{ \"a\": 10:03 }");
        assert_eq!(render("{time", &FIELDS), "{time");
        assert_eq!(render("time}", &FIELDS), "time}");
        assert_eq!(render("{Not a name}", &FIELDS), "{Not a name}");
    }
}
