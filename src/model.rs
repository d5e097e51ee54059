//! The values that flow through daas, from the pin to the lab: edges, gestures, events,
//! announcements and where their deliveries stand. They live at the bottom of the
//! module tree so that every stage can name them without depending on another stage
//! (DESIGN.md: one direction of data, no back-edges). Plain data and the few methods
//! that say what a value means; no I/O, no clock.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use jiff::Timestamp;

/// The two inputs a daas device has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputId {
    /// The big red button.
    Button,
    /// The flick switch that arms the button.
    Arm,
}

impl InputId {
    /// The name used in trace files and messages.
    pub fn name(self) -> &'static str {
        match self {
            InputId::Button => "button",
            InputId::Arm => "arm",
        }
    }
}

/// An electrical level read at a pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Low,
    High,
}

impl Level {
    /// The other level.
    pub fn flipped(self) -> Level {
        match self {
            Level::Low => Level::High,
            Level::High => Level::Low,
        }
    }
}

/// One change of level at an input.
///
/// `at` is on the monotonic time line of the source: CLOCK_MONOTONIC for the daemon
/// (the clock the kernel stamps GPIO events with), virtual time for a replayed trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub input: InputId,
    pub level: Level,
    pub at: Duration,
}

/// The levels of the inputs when a source starts; they set state without making events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartingLevels {
    pub button: Level,
    /// `None` when no arm switch is configured.
    pub arm: Option<Level>,
}

/// A boxed future, so that sources can be chosen at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The kinds of gesture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GestureKind {
    Press,
    LongPress,
    DoublePress,
}

impl GestureKind {
    /// Every kind, in the order configs and summaries list them.
    pub const ALL: [GestureKind; 3] = [
        GestureKind::Press,
        GestureKind::LongPress,
        GestureKind::DoublePress,
    ];

    /// The kind called `name` in configs and event lines.
    pub fn from_name(name: &str) -> Option<GestureKind> {
        GestureKind::ALL.into_iter().find(|g| g.name() == name)
    }

    /// The name used in config keys and event lines.
    pub fn name(self) -> &'static str {
        match self {
            GestureKind::Press => "press",
            GestureKind::LongPress => "long_press",
            GestureKind::DoublePress => "double_press",
        }
    }
}

/// A recognised gesture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gesture {
    pub kind: GestureKind,
    /// The first edge of the gesture (the first press-down).
    pub first_edge: Duration,
    /// When it fired.
    pub at: Duration,
    /// The arm switch was off at some point during the gesture.
    pub disarmed: bool,
}

/// Why a gesture did not become an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    Disarmed,
    Cooldown,
    QuietHours,
}

impl Ignored {
    pub fn name(self) -> &'static str {
        match self {
            Ignored::Disarmed => "disarmed",
            Ignored::Cooldown => "cooldown",
            Ignored::QuietHours => "quiet_hours",
        }
    }
}

/// Something that happened, on the monotonic time line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Gesture {
        at: Duration,
        gesture: GestureKind,
        /// The mapped action, `None` when the gesture is not mapped.
        action: Option<String>,
        first_edge: Duration,
        ignored: Option<Ignored>,
    },
    Arm {
        at: Duration,
        armed: bool,
    },
    Delivery {
        at: Duration,
        announcement: String,
        sink: String,
        /// Where the delivery stands after this attempt.
        outcome: DeliveryState,
        attempt: u32,
    },
    /// The feedback LED went on or off.
    Led {
        at: Duration,
        on: bool,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> Duration {
        match self {
            Event::Gesture { at, .. }
            | Event::Arm { at, .. }
            | Event::Delivery { at, .. }
            | Event::Led { at, .. } => *at,
        }
    }
}

/// A wall-clock reading and whether it can be believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallNow {
    pub now: Timestamp,
    pub trusted: bool,
}

/// An announcement as accepted, before its time is known for sure: what the outbox
/// keeps, and what every send renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// Unique and time-ordered; every send of it keeps it (email Message-ID).
    pub id: String,
    pub action: String,
    pub device: String,
    /// The subject and body templates (`{time}` and the rest still in them).
    pub subject: String,
    pub body: String,
    /// The wall clock when it was made, and whether that reading was trusted.
    pub made: WallNow,
}

/// One announcement as a sink sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// The draft's id: a resend of the same announcement keeps it.
    pub id: String,
    pub action: String,
    pub subject: String,
    pub body: String,
    pub device: String,
    /// When it was made, when that is known (`None` before the clock is trusted).
    pub created: Option<Timestamp>,
}

/// Where a delivery of an announcement to a sink stands: the one name for it in the
/// delivery core, the outbox, event lines and `daas status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Not delivered yet: never tried, being sent, or waiting to be tried again.
    Pending,
    Delivered,
    /// A permanent error: retrying would not help.
    Failed,
    /// Still not delivered when the announcement grew too old to be worth sending.
    Expired,
}

impl DeliveryState {
    /// The name stored in the outbox and shown by `daas status`.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Expired => "expired",
        }
    }

    /// The state named `name`, as stored.
    pub fn from_name(name: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::Expired,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    /// The name of an attempt's outcome in event lines: a delivery still pending after
    /// an attempt is being retried.
    pub fn outcome_name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "retrying",
            other => other.name(),
        }
    }

    /// Whether the delivery is over.
    pub fn is_final(self) -> bool {
        self != DeliveryState::Pending
    }
}

/// How one attempt to deliver an announcement to a sink went: what event lines, the
/// log and `daas notify`'s table report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub announcement: String,
    pub sink: String,
    /// The sink's type.
    pub kind: &'static str,
    /// Where the delivery stands after the attempt (pending: to be tried again).
    pub state: DeliveryState,
    /// The attempt's number, from 1.
    pub attempt: u32,
    pub error: Option<String>,
    /// How long the attempt took, where that was measured (`daas notify`).
    pub elapsed: Option<Duration>,
}
