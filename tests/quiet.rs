//! Quiet hours in a running daemon (the built binary, simulated button, a real webhook
//! receiver) with a trusted clock: a press inside the window is ignored and reported
//! so, nothing is sent; a long press set to bypass it is delivered. The rule itself
//! (wrapping midnight, days, daylight saving in two zones) is tested in
//! `core::quiet`; replay's `--start` in tests/replay.rs.

use crate::util::daemon::{Setup, until_or_show};
use crate::util::receiver::Receiver;

#[tokio::test(flavor = "multi_thread")]
async fn a_press_in_quiet_hours_is_ignored_and_a_bypass_long_press_is_delivered() {
    let r = Receiver::start().await;
    // A window from an hour ago to an hour ahead, in UTC: now is always inside it.
    let hour = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .hour();
    let quiet = format!(
        "[device]\ntime_zone = \"UTC\"\n[clock]\ntrust = \"always\"\n[led]\npin = 22\n\
         [quiet_hours]\nfrom = \"{:02}:00\"\nto = \"{:02}:59\"\nbypass = [\"long_press\"]\n",
        (hour + 23) % 24,
        (hour + 1) % 24
    );
    let setup = Setup::with(&[("hook", r.url("/hook"))], "", &quiet);
    setup.edit_config(
        "press = \"arrival\"",
        "press = \"arrival\"\nlong_press = \"arrival\"",
    );

    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until_or_show(
        "the press reported as ignored for quiet hours",
        || {
            setup
                .event_lines(1)
                .iter()
                .any(|l| l["ignored"] == "quiet_hours")
        },
        || setup.diagnosis(1),
    )
    .await;
    daemon.send("hold 2000\n");
    until_or_show(
        "the long press delivered",
        || {
            setup
                .event_lines(1)
                .iter()
                .any(|l| l["type"] == "delivery" && l["outcome"] == "delivered")
        },
        || setup.diagnosis(1),
    )
    .await;
    daemon.send("quit\n");
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let lines = setup.event_lines(1);
    let gestures: Vec<String> = lines
        .iter()
        .filter(|l| l["type"] == "gesture")
        .map(|l| {
            format!(
                "{} {}",
                l["gesture"].as_str().unwrap_or_default(),
                l["ignored"].as_str().unwrap_or("announced")
            )
        })
        .collect();
    assert_eq!(gestures, ["press quiet_hours", "long_press announced"]);
    assert_eq!(r.accepted().len(), 1, "only the long press was sent");
    assert!(stderr.contains("press ignored: quiet_hours"), "{stderr}");
}
