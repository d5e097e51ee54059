//! A real HTTP receiver for the sink tests: an axum server on 127.0.0.1 (a random
//! port, or a given one so it can be stopped and started again) that records every
//! request it gets and answers by path:
//! - `/hang…` never answers;
//! - `/status/NNN…` answers status NNN (with `Retry-After: 7` for 429);
//! - `/huge…` answers 400 with a 1 MiB body;
//! - `/slow/MS…` answers 200 after MS milliseconds;
//! - `/fail-first/K/CODE…` answers CODE (with `Retry-After: 2` for 429) to the first K
//!   requests on that path, then 200;
//! - anything else answers 200 `ok`.
//!
//! Only requests answered 200 count as received (`accepted`).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
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
        let log = Arc::clone(&received);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let log = Arc::clone(&log);
                let request = Received {
                    method,
                    uri,
                    headers,
                    body,
                    at: Instant::now(),
                    answered: None,
                };
                async move { answer(&log, request).await }
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

async fn answer(log: &Mutex<Vec<Received>>, request: Received) -> Response {
    let path = request.uri.path().to_string();
    let (index, earlier_on_path) = {
        let mut log = log.lock().expect("lock");
        let earlier = log.iter().filter(|r| r.uri.path() == path).count();
        log.push(request);
        (log.len() - 1, earlier)
    };
    let (status, response) = respond(&path, earlier_on_path).await;
    log.lock().expect("lock")[index].answered = Some(status.as_u16());
    response
}

async fn respond(path: &str, earlier_on_path: usize) -> (StatusCode, Response) {
    if path.starts_with("/hang") {
        std::future::pending::<()>().await;
    }
    if path.starts_with("/huge") {
        return (
            StatusCode::BAD_REQUEST,
            (StatusCode::BAD_REQUEST, "E".repeat(1 << 20)).into_response(),
        );
    }
    if let Some(ms) = path
        .strip_prefix("/slow/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|m| m.parse().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let mut code = path
        .strip_prefix("/status/")
        .and_then(|rest| rest.get(..3))
        .and_then(|c| c.parse::<u16>().ok());
    let mut retry_after = "7";
    if let Some(rest) = path.strip_prefix("/fail-first/") {
        let mut parts = rest.split('/');
        let k: usize = parts
            .next()
            .and_then(|k| k.parse().ok())
            .expect("/fail-first/K/CODE");
        let c: u16 = parts
            .next()
            .and_then(|c| c.parse().ok())
            .expect("/fail-first/K/CODE");
        retry_after = "2";
        if earlier_on_path < k {
            code = Some(c);
        }
    }
    let status = code.map_or(StatusCode::OK, |c| StatusCode::from_u16(c).expect("status"));
    let response = match status {
        StatusCode::OK => (status, "ok").into_response(),
        StatusCode::TOO_MANY_REQUESTS => {
            (status, [("retry-after", retry_after)], "slow down").into_response()
        }
        _ => (status, format!("answer {}", status.as_u16())).into_response(),
    };
    (status, response)
}
