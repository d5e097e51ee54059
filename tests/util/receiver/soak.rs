//! How the soak's receivers answer (scripts/soak starts five through
//! examples/receiver.rs): healthy ones always accept, hanging ones hang every request
//! (the virtual Pi's power cuts); flaky ones refuse about 15% with
//! 500, 10% with 429 (`Retry-After: 1`) and hang 5% past the sink's timeout. A flaky
//! answer depends only on (seed, announcement id, how many times that id came before),
//! so a run with the same seed and the same arrivals answers the same way.
//!
//! Each request is one line in a log file, appended and flushed at once:
//!
//! ```text
//! WALL  ARRIVED  ANSWERED  ID  OUTCOME
//! ```
//!
//! WALL is UTC wall time for people; ARRIVED (the request was read) and ANSWERED (the
//! answer was handed to the HTTP server to write) are CLOCK_MONOTONIC seconds, the
//! clock scripts/soak stamps its SIGKILLs with. OUTCOME is `accepted` (answered 200:
//! a receipt), `refused 500`, `refused 429`, `hung` or `bad-request` (no JSON `id`;
//! answered 400). A receipt is logged as its answer is handed over, before the bytes
//! are on the socket: a client killed in between makes the soak see one receipt too
//! many, a duplicate it must then explain by that kill, never a loss it would miss.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::by_path::status_answer;

/// How a soak receiver behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temper {
    Healthy,
    Flaky,
    /// Hangs every request: a delivery held in flight (the virtual Pi's power cuts).
    Hanging,
}

/// One arrival's fate.
enum Decision {
    Accept,
    Refuse(StatusCode),
    Hang,
}

/// A soak receiver's answers and its log.
pub struct Soak {
    temper: Temper,
    seed: String,
    /// How long a hung request is held: longer than the sink's timeout.
    hang: Duration,
    /// How many times each announcement id has arrived.
    seen: Mutex<HashMap<String, u32>>,
    log: Mutex<File>,
    /// Where each accepted request's body goes, one line each, if anywhere.
    bodies: Option<Mutex<File>>,
}

impl Soak {
    /// A receiver of `temper` whose flaky answers follow `seed`, logging to `log`
    /// (appended).
    pub fn open(temper: Temper, seed: &str, hang: Duration, log: &Path) -> std::io::Result<Soak> {
        let log = File::options().create(true).append(true).open(log)?;
        Ok(Soak {
            temper,
            seed: seed.to_string(),
            hang,
            seen: Mutex::default(),
            log: Mutex::new(log),
            bodies: None,
        })
    }

    /// Also appends the body of every accepted request to `path`, one line each (JSON
    /// bodies are one line): for checks on what a message said, such as its time.
    pub fn with_bodies(mut self, path: &Path) -> std::io::Result<Soak> {
        let file = File::options().create(true).append(true).open(path)?;
        self.bodies = Some(Mutex::new(file));
        Ok(self)
    }

    /// The answer to a request with `body` that arrived at `arrived` (CLOCK_MONOTONIC).
    pub async fn respond(&self, body: &[u8], arrived: Duration) -> (StatusCode, Response) {
        let Some(id) = announcement_id(body) else {
            self.log(arrived, "-", "bad-request");
            let status = StatusCode::BAD_REQUEST;
            return (status, (status, "no JSON id").into_response());
        };
        match self.decide(&id) {
            Decision::Accept => {
                if let Some(bodies) = &self.bodies {
                    let mut line = body.to_vec();
                    line.push(b'\n');
                    bodies
                        .lock()
                        .expect("lock")
                        .write_all(&line)
                        .expect("write the bodies file");
                }
                self.log(arrived, &id, "accepted");
                (StatusCode::OK, status_answer(StatusCode::OK, ""))
            }
            Decision::Refuse(status) => {
                self.log(arrived, &id, &format!("refused {}", status.as_u16()));
                (status, status_answer(status, "1"))
            }
            Decision::Hang => {
                self.log(arrived, &id, "hung");
                // The sink gave up and closed long before: nobody reads this answer.
                tokio::time::sleep(self.hang).await;
                let status = StatusCode::GATEWAY_TIMEOUT;
                (status, status_answer(status, ""))
            }
        }
    }

    fn decide(&self, id: &str) -> Decision {
        let earlier = {
            let mut seen = self.seen.lock().expect("lock");
            let n = seen.entry(id.to_string()).or_default();
            *n += 1;
            *n - 1
        };
        match self.temper {
            Temper::Healthy => return Decision::Accept,
            Temper::Hanging => return Decision::Hang,
            Temper::Flaky => {}
        }
        let roll = fastrand::Rng::with_seed(fnv1a(&format!("{}:{id}:{earlier}", self.seed))).f64();
        match roll {
            r if r < 0.15 => Decision::Refuse(StatusCode::INTERNAL_SERVER_ERROR),
            r if r < 0.25 => Decision::Refuse(StatusCode::TOO_MANY_REQUESTS),
            r if r < 0.30 => Decision::Hang,
            _ => Decision::Accept,
        }
    }

    fn log(&self, arrived: Duration, id: &str, outcome: &str) {
        let answered = daas::clock::monotonic::now();
        let wall = jiff::Timestamp::now();
        let line = format!(
            "{wall:.6}\t{:.6}\t{:.6}\t{id}\t{outcome}\n",
            arrived.as_secs_f64(),
            answered.as_secs_f64()
        );
        // One write of a whole line to an O_APPEND file: lines never interleave.
        let mut log = self.log.lock().expect("lock");
        log.write_all(line.as_bytes())
            .expect("write the receiver log");
    }
}

/// The `id` of a JSON body (a string or a number), as text.
fn announcement_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("id")? {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// FNV-1a: a stable hash (std's `DefaultHasher` may change between Rust releases), so
/// a seed means the same answers on every toolchain.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
