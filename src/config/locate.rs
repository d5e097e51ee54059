//! Turning byte offsets and key paths into the `LINE:COL` people see in errors.
//!
//! serde errors carry a byte span; semantic problems carry a key path, which is
//! found again in the document parsed with spans. A path that is not in the file
//! (a default value) points at its nearest written ancestor.

use toml::de::{DeTable, DeValue};

use super::validate::KeyPart;

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The position of the key at `path`, or of its nearest ancestor that is written.
pub fn key_position(text: &str, path: &[KeyPart]) -> (usize, usize) {
    let Ok(root) = DeTable::parse(text) else {
        return (1, 1);
    };
    let mut offset = None;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut array: Option<&[toml::Spanned<DeValue<'_>>]> = None;
    for part in path {
        let value = match (part, table, array) {
            (KeyPart::Key(key), Some(t), _) => {
                t.iter().find(|(k, _)| k.get_ref() == key).map(|(k, v)| {
                    offset = Some(k.span().start);
                    v
                })
            }
            (KeyPart::Index(i), _, Some(items)) => {
                items.get(*i).inspect(|v| offset = Some(v.span().start))
            }
            _ => None,
        };
        let Some(value) = value else { break };
        table = None;
        array = None;
        match value.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    offset.map_or((1, 1), |o| line_column(text, o))
}

/// The position of `key` in the `index`th `[[sinks]]` table (from 0), or of the table
/// when `key` is `None` or not written there.
pub fn sink_position(text: &str, index: usize, key: Option<&str>) -> (usize, usize) {
    let mut path = vec![KeyPart::Key("sinks".to_string()), KeyPart::Index(index)];
    path.extend(key.map(|key| KeyPart::Key(key.to_string())));
    key_position(text, &path)
}
