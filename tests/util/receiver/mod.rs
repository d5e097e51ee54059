//! A real HTTP receiver for the sink tests, the benches and the soak: an axum server
//! on 127.0.0.1 (a random port, or a given one so it can be stopped and started
//! again) that records every request it gets. It answers by path for the tests
//! (`by_path`: hangs, refusals, slow and failing-first answers) or as a healthy or
//! flaky soak receiver (`soak`, logging to a file scripts/soak reads). Only requests
//! answered 200 count as received (`accepted`).
//!
//! The benches and examples/receiver.rs include this directory with `#[path]`, so
//! there is one receiver.

#![allow(dead_code)]

pub mod by_path;
pub mod soak;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// The same moment on CLOCK_MONOTONIC (what the daemon's event lines and the
    /// soak's SIGKILL stamps use).
    pub arrived: Duration,
    /// The status it was answered with (`None` while unanswered, or never).
    pub answered: Option<u16>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

pub type Log = Arc<Mutex<Vec<Received>>>;

/// Called with each request as it arrives (the benches time receipts with it).
pub type OnArrival = Arc<dyn Fn(&Received) + Send + Sync>;

/// How a receiver answers.
#[derive(Clone)]
pub enum Answers {
    /// By the request's path (`by_path::respond`).
    ByPath,
    /// As a soak receiver, by seed and announcement id.
    Soak(Arc<soak::Soak>),
}

/// Everything a receiver can be started with.
pub struct Options {
    /// The port to listen on (0: any free one).
    pub port: u16,
    /// Where requests are recorded (shared, so a restarted receiver keeps one log).
    pub log: Log,
    pub answers: Answers,
    pub on_arrival: Option<OnArrival>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            port: 0,
            log: Log::default(),
            answers: Answers::ByPath,
            on_arrival: None,
        }
    }
}

/// A running receiver.
pub struct Receiver {
    pub base: String,
    pub port: u16,
    pub received: Log,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Starts a receiver on a free port of the current tokio runtime.
    pub async fn start() -> Receiver {
        Receiver::start_on(0, Log::default()).await
    }

    /// Starts a receiver on `port` (0: any), logging into `received` (so a restarted
    /// receiver keeps one log).
    pub async fn start_on(port: u16, received: Log) -> Receiver {
        Receiver::start_with(Options {
            port,
            log: received,
            ..Options::default()
        })
        .await
    }

    /// Starts a receiver with `options` on the current tokio runtime.
    pub async fn start_with(options: Options) -> Receiver {
        let Options {
            port,
            log: received,
            answers,
            on_arrival,
        } = options;
        let log = Arc::clone(&received);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let request = Received {
                    method,
                    uri,
                    headers,
                    body,
                    at: Instant::now(),
                    arrived: daas::clock::monotonic::now(),
                    answered: None,
                };
                if let Some(on_arrival) = &on_arrival {
                    on_arrival(&request);
                }
                let log = Arc::clone(&log);
                let answers = answers.clone();
                async move { answer(&log, &answers, request).await }
            },
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Receiver {
            base: format!("http://127.0.0.1:{port}"),
            port,
            received,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Stops listening; connections in progress are dropped.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// The requests answered 200, in order of arrival.
    pub fn accepted(&self) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.answered == Some(200))
            .collect()
    }
}

async fn answer(log: &Mutex<Vec<Received>>, answers: &Answers, request: Received) -> Response {
    let path = request.uri.path().to_string();
    let (body, arrived) = (request.body.clone(), request.arrived);
    let (index, earlier_on_path) = {
        let mut log = log.lock().expect("lock");
        let earlier = log.iter().filter(|r| r.uri.path() == path).count();
        log.push(request);
        (log.len() - 1, earlier)
    };
    let (status, response) = match answers {
        Answers::ByPath => by_path::respond(&path, earlier_on_path).await,
        Answers::Soak(soak) => soak.respond(&body, arrived).await,
    };
    log.lock().expect("lock")[index].answered = Some(status.as_u16());
    response
}
