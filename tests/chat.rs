//! The chat and webhook sinks against a real HTTP server on 127.0.0.1: the exact
//! method, headers and JSON each sends; how answers are classified; and that a sink
//! that never answers delays no other.

use std::sync::Arc;
use std::time::Duration;

use crate::util::receiver::Receiver;
use daas::commands::fanout::Fanout;
use daas::model::Announcement;
use daas::sinks::{self, ConfiguredSink, SendError};
use serde_json::json;

fn config(sinks: &str) -> daas::config::Config {
    crate::util::config::parse(&crate::util::config::text(
        "3rd floor kitchen",
        "Doughnuts in the {device}! 🍩",
        "Fresh doughnuts arrived. Come & get them.",
        sinks,
    ))
}

fn announcement() -> Announcement {
    Announcement {
        id: "0192f0c8-0000-7000-8000-000000000001".into(),
        action: "arrival".into(),
        subject: "Doughnuts in the 3rd floor kitchen! 🍩".into(),
        body: "Fresh doughnuts arrived. Come & get them.".into(),
        device: "3rd floor kitchen".into(),
        created: Some("2026-11-27T10:03:00Z".parse().expect("timestamp")),
    }
}

fn build(sink_toml: &str) -> ConfiguredSink {
    crate::util::config::first_sink(&config(sink_toml))
}

/// Sends one announcement through a one-sink config and returns what the server got.
async fn send_one(sink_toml: &str, receiver: &Receiver) -> crate::util::receiver::Received {
    let sink = build(sink_toml);
    sink.sink.send(&announcement()).await.expect("delivered");
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    requests[0].clone()
}

#[tokio::test]
async fn slack_posts_text_with_its_options() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"slack\"\nname = \"slack\"\nurl = \"{}\"\nchannel = \"#kitchen\"\nusername = \"daas\"\nicon_emoji = \":doughnut:\"",
            r.url("/services/T0/B0/XXXX")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri.path(), "/services/T0/B0/XXXX");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.json(),
        json!({
            "text": "*Doughnuts in the 3rd floor kitchen! 🍩*\nFresh doughnuts arrived. Come &amp; get them.",
            "channel": "#kitchen", "username": "daas", "icon_emoji": ":doughnut:"
        })
    );
}

#[tokio::test]
async fn mattermost_posts_markdown_text() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"mattermost\"\nname = \"mm\"\nurl = \"{}\"\nusername = \"daas\"\nicon_url = \"https://example.org/d.png\"",
            r.url("/hooks/abc")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.json(),
        json!({
            "text": "**Doughnuts in the 3rd floor kitchen! 🍩**\nFresh doughnuts arrived. Come & get them.",
            "username": "daas", "icon_url": "https://example.org/d.png"
        })
    );
}

#[tokio::test]
async fn teams_posts_an_adaptive_card() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"teams\"\nname = \"teams\"\nurl = \"{}\"",
            r.url("/workflows/x")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.header("content-type"), "application/json");
    // What went over the wire is the payload the sink makes; its shape is checked by
    // the unit tests in src/sinks/chat.rs.
    assert_eq!(
        got.json(),
        daas::sinks::chat::payload(&daas::sinks::chat::Chat::Teams, &announcement())
    );
}

#[tokio::test]
async fn discord_waits_for_confirmation() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"discord\"\nname = \"discord\"\nurl = \"{}\"\nusername = \"daas\"\navatar_url = \"https://example.org/a.png\"",
            r.url("/api/webhooks/1/tok")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri.path(), "/api/webhooks/1/tok");
    assert_eq!(got.uri.query(), Some("wait=true"));
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.json(),
        json!({
            "content": "**Doughnuts in the 3rd floor kitchen! 🍩**\nFresh doughnuts arrived. Come & get them.",
            "username": "daas", "avatar_url": "https://example.org/a.png"
        })
    );
}

#[tokio::test]
async fn google_chat_posts_bold_subject() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"google_chat\"\nname = \"gchat\"\nurl = \"{}\"",
            r.url("/v1/spaces/S/messages?key=K&token=T")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri.query(), Some("key=K&token=T"));
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.json(),
        json!({"text": "*Doughnuts in the 3rd floor kitchen! 🍩*\nFresh doughnuts arrived. Come & get them."})
    );
}

#[tokio::test]
async fn webhook_default_body_method_and_headers() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"webhook\"\nname = \"hook\"\nurl = \"{}\"\nmethod = \"PUT\"\nheaders = {{ Authorization = \"Bearer abc\", X-Lab = \"kitchen\" }}",
            r.url("/in")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "PUT");
    assert_eq!(got.header("authorization"), "Bearer abc");
    assert_eq!(got.header("x-lab"), "kitchen");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(
        got.json(),
        json!({
            "id": "0192f0c8-0000-7000-8000-000000000001", "action": "arrival",
            "subject": "Doughnuts in the 3rd floor kitchen! 🍩", "body": "Fresh doughnuts arrived. Come & get them.",
            "device": "3rd floor kitchen", "created": "2026-11-27T10:03:00Z"
        })
    );
}

#[tokio::test]
async fn webhook_template_body_with_its_own_content_type() {
    let r = Receiver::start().await;
    let got = send_one(
        &format!(
            "[[sinks]]\ntype = \"webhook\"\nname = \"ntfy\"\nurl = \"{}\"\nheaders = {{ Content-Type = \"text/plain\", Title = \"doughnuts\" }}\nbody = \"{{subject}} ({{action}})\"",
            r.url("/kitchen")
        ),
        &r,
    )
    .await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.header("content-type"), "text/plain");
    assert_eq!(
        &got.body[..],
        "Doughnuts in the 3rd floor kitchen! 🍩 (arrival)".as_bytes()
    );
}

async fn outcome(path: &str) -> Result<(), SendError> {
    let r = Receiver::start().await;
    let sink = build(&format!(
        "[[sinks]]\ntype = \"slack\"\nname = \"s\"\nurl = \"{}\"",
        r.url(path)
    ));
    sink.sink.send(&announcement()).await
}

#[tokio::test]
async fn answers_are_classified() {
    assert_eq!(
        outcome("/status/429").await,
        Err(SendError::Retryable {
            message: "HTTP 429 Too Many Requests: slow down".into(),
            retry_after: Some(Duration::from_secs(7))
        })
    );
    assert_eq!(
        outcome("/status/500").await,
        Err(SendError::Retryable {
            message: "HTTP 500 Internal Server Error: answer 500".into(),
            retry_after: None
        })
    );
    assert_eq!(
        outcome("/status/404").await,
        Err(SendError::Permanent {
            message: "HTTP 404 Not Found: answer 404".into()
        })
    );
}

#[tokio::test]
async fn an_oversized_error_body_is_cut_off() {
    let Err(SendError::Permanent { message }) = outcome("/huge").await else {
        panic!("400 is permanent");
    };
    assert!(
        message.starts_with("HTTP 400 Bad Request: EEEE"),
        "{message}"
    );
    assert!(message.len() <= 240, "{} bytes", message.len());
}

#[tokio::test]
async fn nothing_listening_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    drop(listener);
    let sink = build(&format!(
        "[[sinks]]\ntype = \"slack\"\nname = \"s\"\nurl = \"{url}\""
    ));
    let Err(SendError::Retryable { message, .. }) = sink.sink.send(&announcement()).await else {
        panic!("a refused connection is retryable");
    };
    assert!(message.starts_with("cannot connect"), "{message}");
}

/// Four healthy sinks and two that never answer: the healthy ones all report before
/// any hanging one, each well inside the hanging ones' timeout.
#[tokio::test]
async fn a_sink_that_never_answers_delays_no_other() {
    let r = Receiver::start().await;
    let mut entries = String::new();
    for (i, path) in ["/a", "/hang1", "/b", "/c", "/hang2", "/d"]
        .iter()
        .enumerate()
    {
        entries += &format!(
            "[[sinks]]\ntype = \"webhook\"\nname = \"s{i}{path}\"\nurl = \"{}\"\ntimeout_s = 3\n",
            r.url(path)
        );
    }
    let c = config(&entries);
    let mut fanout = Fanout::new(sinks::from_config(&c.sinks).expect("sinks"));
    fanout.send(Arc::new(announcement()));
    let mut order = Vec::new();
    while let Some(report) = fanout.next_report().await {
        order.push(report);
    }
    let names: Vec<_> = order
        .iter()
        .map(|r| (r.sink.contains("hang"), r.error.is_none()))
        .collect();
    assert_eq!(
        names,
        [
            (false, true),
            (false, true),
            (false, true),
            (false, true),
            (true, false),
            (true, false)
        ]
    );
    for report in &order[..4] {
        assert!(
            report.elapsed.is_some_and(|e| e < Duration::from_secs(3)),
            "{} took {:?}",
            report.sink,
            report.elapsed
        );
    }
    for report in &order[4..] {
        assert!(
            report
                .error
                .as_deref()
                .is_some_and(|e| e.contains("no answer within 3 s")),
            "{:?}",
            report.error
        );
    }
}
