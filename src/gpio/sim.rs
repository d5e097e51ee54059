//! The simulated button (`daas run --simulate`): try daas on a laptop.
//!
//! On a terminal, keys act at once: Enter or space presses the button (down, 100 ms,
//! up), `l` long-presses, `a` flips the arm switch, `q` quits. When stdin is not a
//! terminal (a script, a test), it reads one command per line: `down`, `up`, `press`,
//! `hold MS`, `arm`, `disarm`, `wait MS`, `quit`; an unknown line, or one that is not
//! UTF-8, is reported and skipped; end of input means quit. Quitting still lets the
//! last edges' gestures fire: the daemon serves their deadlines before it stops
//! (see [`crate::daemon::live`]), so `press` then `quit` announces even when long or
//! double presses are mapped. A reported line has its control characters escaped, so
//! stray escape sequences cannot rewrite the terminal or split a journal line.
//!
//! A plain thread reads stdin (blocked in the kernel, never polling) and sends edges
//! stamped on the monotonic clock, exactly as a GPIO backend would. The simulated
//! arm switch starts armed, so the first Enter already announces.

use std::io::{BufRead, ErrorKind, IsTerminal, Read};
use std::time::Duration;

use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};
use tokio::sync::mpsc;

use super::{EdgeSource, GpioSettings, InputError};
use crate::clock::monotonic;
use crate::model::{BoxFuture, Edge, InputId, Level, StartingLevels};

/// How long a simulated press holds the button down.
const PRESS: Duration = Duration::from_millis(100);

/// One thing the simulated hand does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Down,
    Up,
    Press,
    Hold(Duration),
    /// Hold past the long-press time (the `l` key).
    LongPress,
    Arm,
    Disarm,
    ToggleArm,
    Wait(Duration),
    Quit,
}

/// The commands accepted on a non-terminal stdin, for messages.
pub const COMMANDS: &str = "down, up, press, hold MS, arm, disarm, wait MS, quit";

/// Parses one line of scripted input. `Ok(None)` for a blank line or a `#` comment.
/// An error quotes the line with its control characters escaped ([`shown`]).
pub fn parse_line(line: &str) -> Result<Option<Command>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let word = words.next().unwrap_or_default();
    let millis = |arg: Option<&str>| -> Result<Duration, String> {
        arg.and_then(|a| a.parse::<u64>().ok())
            .filter(|&ms| ms <= 3_600_000)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                format!(
                    "`{}` needs a number of milliseconds (0..=3600000), e.g. `{word} 2000`",
                    shown(line)
                )
            })
    };
    let command = match word {
        "down" => Command::Down,
        "up" => Command::Up,
        "press" => Command::Press,
        "hold" => Command::Hold(millis(words.next())?),
        "arm" => Command::Arm,
        "disarm" => Command::Disarm,
        "wait" => Command::Wait(millis(words.next())?),
        "quit" => Command::Quit,
        _ => {
            return Err(format!(
                "unknown command `{}`; use one of: {COMMANDS}",
                shown(line)
            ));
        }
    };
    if words.next().is_some() {
        return Err(format!(
            "`{}` has extra words; use one of: {COMMANDS}",
            shown(line)
        ));
    }
    Ok(Some(command))
}

/// `text` fit to quote in a log line or an error: control characters (escape
/// sequences, carriage returns, NUL) and the invisible marks that reorder text
/// (bidirectional overrides) become Rust escapes such as `\u{1b}`, so what was typed
/// cannot rewrite the terminal or split a journal line. Everything else is unchanged.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let reorders = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || reorders {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A key on the terminal.
pub fn parse_key(key: u8) -> Option<Command> {
    match key {
        b'\n' | b'\r' | b' ' => Some(Command::Press),
        b'l' | b'L' => Some(Command::LongPress),
        b'a' | b'A' => Some(Command::ToggleArm),
        // q, or Ctrl-D (end of transmission) in non-canonical mode.
        b'q' | b'Q' | 0x04 => Some(Command::Quit),
        _ => None,
    }
}

/// The simulated hand: performs commands as edges.
struct Hand {
    tx: mpsc::UnboundedSender<Edge>,
    pressed: Level,
    armed_level: Option<Level>,
    armed: bool,
    /// How long `l` holds: past the long-press time.
    long_hold: Duration,
}

impl Hand {
    fn send(&self, input: InputId, level: Level) -> bool {
        self.tx
            .send(Edge {
                input,
                level,
                at: monotonic::now(),
            })
            .is_ok()
    }

    fn set_arm(&mut self, armed: bool) -> bool {
        let Some(active) = self.armed_level else {
            log::warn!("no [arm_switch] is configured, so the button is always armed");
            return true;
        };
        self.armed = armed;
        eprintln!("arm switch: {}", if armed { "armed" } else { "disarmed" });
        self.send(InputId::Arm, if armed { active } else { active.flipped() })
    }

    fn hold(&self, hold: Duration) -> bool {
        let ok = self.send(InputId::Button, self.pressed);
        std::thread::sleep(hold);
        ok && self.send(InputId::Button, self.pressed.flipped())
    }

    /// Performs one command; false when the simulation should end.
    fn perform(&mut self, command: Command) -> bool {
        match command {
            Command::Down => self.send(InputId::Button, self.pressed),
            Command::Up => self.send(InputId::Button, self.pressed.flipped()),
            Command::Press => self.hold(PRESS),
            Command::LongPress => self.hold(self.long_hold),
            Command::Hold(d) => self.hold(d),
            Command::Arm => self.set_arm(true),
            Command::Disarm => self.set_arm(false),
            Command::ToggleArm => self.set_arm(!self.armed),
            Command::Wait(d) => {
                std::thread::sleep(d);
                true
            }
            Command::Quit => false,
        }
    }
}

/// Restores the terminal's settings when the simulation ends.
struct TerminalGuard(Termios);

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.0);
    }
}

/// Keys without Enter and without echo; Ctrl-C still interrupts.
fn keys_mode() -> Result<TerminalGuard, InputError> {
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(&stdin).map_err(|e| InputError::Stdin(e.into()))?;
    let mut keys = saved.clone();
    keys.local_modes
        .remove(LocalModes::ICANON | LocalModes::ECHO);
    keys.special_codes[SpecialCodeIndex::VMIN] = 1;
    keys.special_codes[SpecialCodeIndex::VTIME] = 0;
    termios::tcsetattr(&stdin, OptionalActions::Now, &keys)
        .map_err(|e| InputError::Stdin(e.into()))?;
    Ok(TerminalGuard(saved))
}

/// The simulated button as an edge source.
pub struct SimSource {
    starting: StartingLevels,
    edges: mpsc::UnboundedReceiver<Edge>,
    _terminal: Option<TerminalGuard>,
}

impl SimSource {
    /// Starts reading stdin: keys on a terminal, commands otherwise.
    pub fn open(gpio: &GpioSettings) -> Result<SimSource, InputError> {
        let pressed: Level = gpio.button.active;
        let armed_level: Option<Level> = gpio.arm.map(|a| a.active);
        let starting = StartingLevels {
            button: pressed.flipped(),
            arm: armed_level,
        };
        let (tx, edges) = mpsc::unbounded_channel();
        let long_hold = gpio.long_hold;
        let hand = Hand {
            tx,
            pressed,
            armed_level,
            armed: true,
            long_hold,
        };
        let terminal = if std::io::stdin().is_terminal() {
            let guard = keys_mode()?;
            eprintln!(
                "simulated button: Enter or space = press, l = long press, a = arm switch ({}), q = quit",
                if armed_level.is_some() {
                    "armed"
                } else {
                    "not configured"
                }
            );
            std::thread::spawn(move || read_keys(hand));
            Some(guard)
        } else {
            std::thread::spawn(move || read_commands(std::io::stdin().lock(), hand));
            None
        };
        Ok(SimSource {
            starting,
            edges,
            _terminal: terminal,
        })
    }
}

fn read_keys(mut hand: Hand) {
    let mut stdin = std::io::stdin().lock();
    let mut byte = [0u8; 1];
    while let Ok(1) = stdin.read(&mut byte) {
        match parse_key(byte[0]) {
            Some(command) => {
                if !hand.perform(command) {
                    return;
                }
            }
            None => {
                eprintln!("keys: Enter or space = press, l = long press, a = arm switch, q = quit")
            }
        }
    }
}

/// Performs the commands read from `input`, one per line, until `quit`, the end of
/// input or a read error. A bad line is reported and skipped, whatever its bytes.
fn read_commands(mut input: impl BufRead, mut hand: Hand) {
    let mut bytes = Vec::new();
    let mut number = 0;
    loop {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) => return,
            Ok(_) => number += 1,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => {
                log::error!("reading simulated button commands from stdin: {err}");
                return;
            }
        }
        let parsed = match std::str::from_utf8(&bytes) {
            Ok(line) => parse_line(line),
            // Bytes, not text: shown as ASCII with every other byte escaped (`\xff`).
            Err(_) => Err(format!(
                "`{}` is not UTF-8 text; use one of: {COMMANDS}",
                bytes.trim_ascii().escape_ascii()
            )),
        };
        match parsed {
            Ok(Some(command)) => {
                if !hand.perform(command) {
                    return;
                }
            }
            Ok(None) => {}
            Err(message) => log::warn!("stdin line {number}: {message}; skipped"),
        }
    }
}

impl EdgeSource for SimSource {
    fn starting_levels(&self) -> StartingLevels {
        self.starting
    }

    fn next_edge(&mut self) -> BoxFuture<'_, Option<Result<Edge, InputError>>> {
        Box::pin(async move { self.edges.recv().await.map(Ok) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        let ms = Duration::from_millis;
        assert_eq!(parse_line("press"), Ok(Some(Command::Press)));
        assert_eq!(
            parse_line("  hold 2000 "),
            Ok(Some(Command::Hold(ms(2000))))
        );
        assert_eq!(parse_line("wait 200"), Ok(Some(Command::Wait(ms(200)))));
        assert_eq!(parse_line("down"), Ok(Some(Command::Down)));
        assert_eq!(parse_line("up"), Ok(Some(Command::Up)));
        assert_eq!(parse_line("arm"), Ok(Some(Command::Arm)));
        assert_eq!(parse_line("disarm"), Ok(Some(Command::Disarm)));
        assert_eq!(parse_line("quit"), Ok(Some(Command::Quit)));
        assert_eq!(parse_line(""), Ok(None));
        assert_eq!(parse_line("# a comment"), Ok(None));
    }

    #[test]
    fn bad_lines_say_what_to_write() {
        let err = parse_line("jump").expect_err("unknown");
        assert!(
            err.contains("unknown command `jump`") && err.contains(COMMANDS),
            "{err}"
        );
        assert!(
            parse_line("wait")
                .expect_err("no number")
                .contains("e.g. `wait 2000`")
        );
        assert!(parse_line("hold soon").is_err());
        assert!(
            parse_line("press twice")
                .expect_err("extra")
                .contains("extra words")
        );
    }

    #[test]
    fn control_characters_in_a_bad_line_are_escaped_in_the_message() {
        let err = parse_line("jump\u{1b}[2J\u{1b}]0;pwned\u{7}\r").expect_err("unknown");
        assert!(
            err.starts_with("unknown command `jump\\u{1b}[2J\\u{1b}]0;pwned\\u{7}`"),
            "{err}"
        );
        assert!(!err.chars().any(char::is_control), "{err:?}");
        let err = parse_line("wait \u{0}").expect_err("no number");
        assert!(err.starts_with("`wait \\u{0}` needs a number"), "{err}");
        let err = parse_line("press \u{202e}sserp").expect_err("extra");
        assert!(
            err.starts_with("`press \\u{202e}sserp` has extra words"),
            "{err}"
        );
        assert_eq!(
            shown("caf\u{e9} \t"),
            "caf\u{e9} \\t",
            "only control characters"
        );
    }

    /// The edges a script makes, read as `read_commands` reads stdin.
    fn edges_of(script: &[u8]) -> Vec<(InputId, Level)> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let hand = Hand {
            tx,
            pressed: Level::Low,
            armed_level: None,
            armed: true,
            long_hold: Duration::from_millis(1700),
        };
        read_commands(script, hand);
        let mut edges = Vec::new();
        while let Ok(edge) = rx.try_recv() {
            edges.push((edge.input, edge.level));
        }
        edges
    }

    #[test]
    fn sim_line_that_is_not_utf8_is_skipped_not_the_end_of_the_simulation() {
        let down = (InputId::Button, Level::Low);
        let up = (InputId::Button, Level::High);
        assert_eq!(
            edges_of(b"down\npr\xffess\r\nup\n"),
            [down, up],
            "the lines after it still count"
        );
        assert_eq!(edges_of(b"down\nquit\nup\n"), [down], "quit stops reading");
        assert_eq!(
            edges_of(b"down\r\nup"),
            [down, up],
            "CRLF, no final newline"
        );
    }

    #[test]
    fn keys_map_to_commands() {
        assert_eq!(parse_key(b'\n'), Some(Command::Press));
        assert_eq!(parse_key(b' '), Some(Command::Press));
        assert_eq!(parse_key(b'l'), Some(Command::LongPress));
        assert_eq!(parse_key(b'a'), Some(Command::ToggleArm));
        assert_eq!(parse_key(b'q'), Some(Command::Quit));
        assert_eq!(parse_key(b'x'), None);
    }
}
