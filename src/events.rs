//! Event lines: what `replay` prints and `run --events` writes, one JSON object per
//! line (the format is a contract, see DESIGN.md).

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::model::{Event, Ignored};

/// Milliseconds since the origin: a whole number when it is one, else a fraction.
struct Millis(Duration);

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let nanos = self.0.as_nanos();
        if nanos % 1_000_000 == 0 {
            s.serialize_u64((nanos / 1_000_000) as u64)
        } else {
            // Microsecond precision is plenty for a button.
            s.serialize_f64((nanos as f64 / 1_000.0).round() / 1_000.0)
        }
    }
}

#[derive(Serialize)]
struct GestureLine<'a> {
    t_ms: Millis,
    r#type: &'static str,
    gesture: &'static str,
    action: Option<&'a str>,
    edge_t_ms: Millis,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<&'static str>,
}

#[derive(Serialize)]
struct ArmLine {
    t_ms: Millis,
    r#type: &'static str,
    armed: bool,
}

#[derive(Serialize)]
struct LedLine {
    t_ms: Millis,
    r#type: &'static str,
    on: bool,
}

#[derive(Serialize)]
struct DeliveryLine<'a> {
    t_ms: Millis,
    r#type: &'static str,
    announcement: &'a str,
    sink: &'a str,
    outcome: &'static str,
    attempt: u32,
}

impl Event {
    /// The event as one JSON line (without the newline), times relative to `origin`.
    pub fn to_line(&self, origin: Duration) -> String {
        let since = |t: Duration| Millis(t.saturating_sub(origin));
        let line = match self {
            Event::Gesture {
                at,
                gesture,
                action,
                first_edge,
                ignored,
            } => serde_json::to_string(&GestureLine {
                t_ms: since(*at),
                r#type: "gesture",
                gesture: gesture.name(),
                action: action.as_deref(),
                edge_t_ms: since(*first_edge),
                ignored: ignored.map(Ignored::name),
            }),
            Event::Arm { at, armed } => serde_json::to_string(&ArmLine {
                t_ms: since(*at),
                r#type: "arm",
                armed: *armed,
            }),
            Event::Delivery {
                at,
                announcement,
                sink,
                outcome,
                attempt,
            } => serde_json::to_string(&DeliveryLine {
                t_ms: since(*at),
                r#type: "delivery",
                announcement,
                sink,
                outcome: outcome.outcome_name(),
                attempt: *attempt,
            }),
            Event::Led { at, on } => serde_json::to_string(&LedLine {
                t_ms: since(*at),
                r#type: "led",
                on: *on,
            }),
        };
        // Serialising these plain structs cannot fail.
        line.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeliveryState, GestureKind};

    #[test]
    fn gesture_line_matches_the_contract() {
        let e = Event::Gesture {
            at: Duration::from_millis(1120),
            gesture: GestureKind::Press,
            action: Some("arrival".into()),
            first_edge: Duration::from_micros(1_100_500),
            ignored: None,
        };
        assert_eq!(
            e.to_line(Duration::from_millis(100)),
            r#"{"t_ms":1020,"type":"gesture","gesture":"press","action":"arrival","edge_t_ms":1000.5}"#
        );
    }

    #[test]
    fn ignored_and_unmapped_gestures_say_so() {
        let e = Event::Gesture {
            at: Duration::from_millis(20),
            gesture: GestureKind::LongPress,
            action: None,
            first_edge: Duration::ZERO,
            ignored: Some(Ignored::Disarmed),
        };
        assert_eq!(
            e.to_line(Duration::ZERO),
            r#"{"t_ms":20,"type":"gesture","gesture":"long_press","action":null,"edge_t_ms":0,"ignored":"disarmed"}"#
        );
    }

    #[test]
    fn arm_delivery_and_led_lines() {
        let ms = Duration::from_millis;
        let cases = [
            (
                Event::Arm {
                    at: ms(5),
                    armed: true,
                },
                r#"{"t_ms":5,"type":"arm","armed":true}"#,
            ),
            (
                Event::Delivery {
                    at: ms(7),
                    announcement: "a1".into(),
                    sink: "console".into(),
                    outcome: DeliveryState::Delivered,
                    attempt: 1,
                },
                r#"{"t_ms":7,"type":"delivery","announcement":"a1","sink":"console","outcome":"delivered","attempt":1}"#,
            ),
            (
                Event::Led {
                    at: ms(9),
                    on: false,
                },
                r#"{"t_ms":9,"type":"led","on":false}"#,
            ),
        ];
        for (event, line) in cases {
            assert_eq!(event.to_line(Duration::ZERO), line);
        }
    }
}
