//! Message templates: `{device}`, `{time}`, `{date}`, `{weekday}` and `{action}` in an
//! action's subject and body, filled in when the announcement is made.
//!
//! `{{` and `}}` stand for literal braces. Unknown placeholders are caught when the
//! config is checked ([`check`]), so rendering never fails.

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["device", "time", "date", "weekday", "action"];

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
    #[error(
        "unknown placeholder `{{{0}}}`; known ones are {{device}}, {{time}}, {{date}}, {{weekday}}, {{action}}"
    )]
    Unknown(String),
    #[error("`{{` without a closing `}}`; write `{{{{` for a literal brace")]
    Unclosed,
    #[error("`}}` without an opening `{{`; write `}}}}` for a literal brace")]
    Unopened,
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        if i > 0 {
            pieces.push(Piece::Text(&rest[..i]));
        }
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            pieces.push(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            pieces.push(Piece::Text("}"));
            rest = after;
        } else if tail.starts_with('}') {
            return Err(TemplateError::Unopened);
        } else {
            let end = tail.find('}').ok_or(TemplateError::Unclosed)?;
            let name = &tail[1..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError::Unknown(name.to_string()));
            }
            pieces.push(Piece::Placeholder(name));
            rest = &tail[end + 1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Checks that a template only uses known placeholders and balanced braces.
pub fn check(template: &str) -> Result<(), TemplateError> {
    parse(template).map(|_| ())
}

/// Fills in a template. A template that [`check`] rejects is returned as it is.
pub fn render(template: &str, fields: &Fields<'_>) -> String {
    let Ok(pieces) = parse(template) else {
        return template.to_string();
    };
    pieces
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text,
            Piece::Placeholder(name) => fields.get(name).unwrap_or_default(),
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
    fn doubled_braces_are_literal() {
        assert_eq!(
            render("{{device}} is {device} 🍩", &FIELDS),
            "{device} is 3rd floor kitchen 🍩"
        );
    }

    #[test]
    fn rejects_unknown_and_unbalanced() {
        assert_eq!(
            check("at {hour}"),
            Err(TemplateError::Unknown("hour".into()))
        );
        assert_eq!(check("at {time"), Err(TemplateError::Unclosed));
        assert_eq!(check("at time}"), Err(TemplateError::Unopened));
        assert_eq!(check("at {time} {{ok}}"), Ok(()));
    }
}
