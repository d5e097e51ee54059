//! Trace files: recorded or hand-written edges for `daas replay`.
//!
//! CSV with the header `t_ms,input,level`: `t_ms` a non-decreasing number of
//! milliseconds from the start, `input` `button` or `arm`, `level` the electrical level
//! `0` or `1`. Rows at `t_ms = 0` set the starting levels without producing events; an
//! input without such a row starts at its inactive level. Blank lines are skipped, and so
//! is a UTF-8 byte-order mark at the start (as some Windows editors write).

use std::time::Duration;

use crate::model::{Edge, InputId, Level, StartingLevels};

/// A parsed trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Starting levels set by `t_ms = 0` rows (`None` where no row set one).
    pub button_start: Option<Level>,
    pub arm_start: Option<Level>,
    /// Edges after time zero, in order.
    pub edges: Vec<Edge>,
}

/// A bad line in a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct TraceError {
    pub line: usize,
    pub message: String,
}

const HEADER: &str = "t_ms,input,level";

/// Where a trace's time line ends: edges are kept to the nanosecond in 64 bits, and
/// deadlines (up to seconds) are added to them, so stay far below 2^64 ns (≈ 1.8e13 ms).
const MAX_T_MS: f64 = 1e12;

impl Trace {
    /// Parses trace text.
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        // Editors on Windows start UTF-8 files with a byte-order mark; it is not data.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        let fail = |line, message: String| TraceError { line, message };
        match lines.find(|(_, l)| !l.is_empty()) {
            Some((_, header)) if header.split(',').map(str::trim).eq(HEADER.split(',')) => {}
            Some((n, other)) => {
                return Err(fail(
                    n,
                    format!(
                        "the first line is `{other}`; a trace starts with the header `{HEADER}`"
                    ),
                ));
            }
            None => {
                return Err(fail(
                    1,
                    format!("the trace is empty; it needs the header `{HEADER}` and rows"),
                ));
            }
        }
        let mut trace = Trace {
            button_start: None,
            arm_start: None,
            edges: Vec::new(),
        };
        let mut last_t = 0.0_f64;
        for (n, line) in lines.filter(|(_, l)| !l.is_empty()) {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let [t, input, level] = fields[..] else {
                return Err(fail(
                    n,
                    format!(
                        "`{line}` has {} fields; a row is `t_ms,input,level`",
                        fields.len()
                    ),
                ));
            };
            let t_ms: f64 = t.parse().ok().filter(|v: &f64| *v >= 0.0).ok_or_else(|| {
                fail(
                    n,
                    format!("t_ms `{t}` is not a number of milliseconds (0 or more)"),
                )
            })?;
            if t_ms >= MAX_T_MS {
                return Err(fail(
                    n,
                    format!(
                        "t_ms `{t}` is too large; a trace can span less than {MAX_T_MS:e} ms (about 31 years)"
                    ),
                ));
            }
            if t_ms < last_t {
                return Err(fail(
                    n,
                    format!(
                        "t_ms {t} is before the previous row's {last_t}; rows must be in time order"
                    ),
                ));
            }
            last_t = t_ms;
            let input = match input {
                "button" => InputId::Button,
                "arm" => InputId::Arm,
                other => {
                    return Err(fail(
                        n,
                        format!("input `{other}` is unknown; use `button` or `arm`"),
                    ));
                }
            };
            let level = match level {
                "0" => Level::Low,
                "1" => Level::High,
                other => {
                    return Err(fail(
                        n,
                        format!("level `{other}` is not an electrical level; use 0 or 1"),
                    ));
                }
            };
            if t_ms == 0.0 {
                match input {
                    InputId::Button => trace.button_start = Some(level),
                    InputId::Arm => trace.arm_start = Some(level),
                }
            } else {
                let at = Duration::from_nanos((t_ms * 1e6).round() as u64);
                trace.edges.push(Edge { input, level, at });
            }
        }
        Ok(trace)
    }

    /// The starting levels, given the inactive level of each configured input.
    pub fn starting_levels(
        &self,
        button_inactive: Level,
        arm_inactive: Option<Level>,
    ) -> StartingLevels {
        StartingLevels {
            button: self.button_start.unwrap_or(button_inactive),
            arm: arm_inactive.map(|inactive| self.arm_start.unwrap_or(inactive)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_starting_levels() {
        let t = Trace::parse("t_ms,input,level\n0,arm,0\n\n100,button,0\n120.5, button ,1\n")
            .expect("valid");
        assert_eq!(t.arm_start, Some(Level::Low));
        assert_eq!(t.button_start, None);
        assert_eq!(
            t.edges,
            vec![
                Edge {
                    input: InputId::Button,
                    level: Level::Low,
                    at: Duration::from_millis(100)
                },
                Edge {
                    input: InputId::Button,
                    level: Level::High,
                    at: Duration::from_micros(120_500)
                },
            ]
        );
        let start = t.starting_levels(Level::High, Some(Level::High));
        assert_eq!(
            start,
            StartingLevels {
                button: Level::High,
                arm: Some(Level::Low)
            }
        );
    }

    #[test]
    fn bad_lines_name_the_line_and_the_fix() {
        let err = |text: &str| Trace::parse(text).expect_err("invalid").to_string();
        assert!(err("time,input,level\n").starts_with("1: the first line is"));
        assert!(err("").starts_with("1: the trace is empty"));
        assert_eq!(
            err("t_ms,input,level\n10,button,2\n"),
            "2: level `2` is not an electrical level; use 0 or 1"
        );
        assert_eq!(
            err("t_ms,input,level\n10,led,1\n"),
            "2: input `led` is unknown; use `button` or `arm`"
        );
        assert!(
            err("t_ms,input,level\n10,button,1\n5,button,0\n").starts_with("3: t_ms 5 is before")
        );
        assert!(err("t_ms,input,level\nx,button,1\n").starts_with("2: t_ms `x` is not a number"));
        assert!(err("t_ms,input,level\n-1,button,1\n").starts_with("2: t_ms `-1`"));
        assert!(err("t_ms,input,level\n1,button\n").starts_with("2: `1,button` has 2 fields"));
    }

    #[test]
    fn trace_with_a_utf8_byte_order_mark_is_accepted() {
        let t = Trace::parse("\u{feff}t_ms,input,level\n100,button,0\n").expect("valid");
        assert_eq!(t.edges.len(), 1);
        // Only at the start: elsewhere it is not part of the format.
        let err = Trace::parse("t_ms,input,level\n\u{feff}100,button,0\n").expect_err("invalid");
        assert!(err.to_string().starts_with("2: t_ms"), "{err}");
    }

    #[test]
    fn t_ms_too_large_for_the_time_line_says_too_large_not_not_a_number() {
        for t in ["1e13", "1000000000000", "inf"] {
            let err = Trace::parse(&format!("t_ms,input,level\n{t},button,0\n"))
                .expect_err("too large")
                .to_string();
            assert_eq!(
                err,
                format!(
                    "2: t_ms `{t}` is too large; a trace can span less than 1e12 ms (about 31 years)"
                )
            );
        }
        assert!(Trace::parse("t_ms,input,level\n999999999999,button,0\n").is_ok());
        let nan = Trace::parse("t_ms,input,level\nNaN,button,0\n").expect_err("not a number");
        assert!(nan.to_string().contains("is not a number"), "{nan}");
    }
}
