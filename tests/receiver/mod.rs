//! A real HTTP receiver for the sink tests: an axum server on 127.0.0.1 (a random
//! port) that records every request it gets and answers by path:
//! - `/hang…` never answers;
//! - `/status/NNN…` answers status NNN (with `Retry-After: 7` for 429);
//! - `/huge…` answers 400 with a 1 MiB body;
//! - anything else answers 200 `ok`.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

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

/// A running receiver.
pub struct Receiver {
    pub base: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver on the current tokio runtime.
    pub async fn start() -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = Arc::clone(&received);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let log = Arc::clone(&log);
                async move {
                    answer(
                        &log,
                        Received {
                            method,
                            uri,
                            headers,
                            body,
                        },
                    )
                    .await
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Receiver { base, received }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

async fn answer(log: &Mutex<Vec<Received>>, request: Received) -> Response {
    let path = request.uri.path().to_string();
    log.lock().expect("lock").push(request);
    if path.starts_with("/hang") {
        std::future::pending::<()>().await;
    }
    if path.starts_with("/huge") {
        return (StatusCode::BAD_REQUEST, "E".repeat(1 << 20)).into_response();
    }
    if let Some(code) = path
        .strip_prefix("/status/")
        .and_then(|rest| rest.get(..3))
        .and_then(|c| c.parse().ok())
    {
        let status = StatusCode::from_u16(code).expect("status");
        if status == StatusCode::TOO_MANY_REQUESTS {
            return (status, [("retry-after", "7")], "slow down").into_response();
        }
        return (status, format!("answer {code}")).into_response();
    }
    (StatusCode::OK, "ok").into_response()
}
