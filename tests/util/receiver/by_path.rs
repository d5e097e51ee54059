//! How the tests' receiver answers: by the request's path, so a test says in its sink
//! URL what it wants (a hang, a refusal, a slow answer, failures then success).

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The answer to a request on `path`, the `earlier_on_path`-th (from 0) on it:
/// - `/hang…` never answers;
/// - `/status/NNN…` answers status NNN (with `Retry-After: 7` for 429);
/// - `/huge…` answers 400 with a 1 MiB body;
/// - `/slow/MS…` answers 200 after MS milliseconds;
/// - `/fail-first/K/CODE…` answers CODE (with `Retry-After: 2` for 429) to the first K
///   requests on that path, then 200;
/// - anything else answers 200 `ok`.
pub async fn respond(path: &str, earlier_on_path: usize) -> (StatusCode, Response) {
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
    (status, status_answer(status, retry_after))
}

/// A plain answer with `status`; a 429 carries `Retry-After: retry_after`.
pub fn status_answer(status: StatusCode, retry_after: &str) -> Response {
    match status {
        StatusCode::OK => (status, "ok").into_response(),
        StatusCode::TOO_MANY_REQUESTS => {
            (status, [("retry-after", retry_after)], "slow down").into_response()
        }
        _ => (status, format!("answer {}", status.as_u16())).into_response(),
    }
}
