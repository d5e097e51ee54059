//! The rota in a running daemon (the built binary, simulated button, a real webhook
//! receiver): a press on someone's turn, with a trusted clock, names them in the
//! message. Turns and reminders themselves are tested in `core::schedule`.

use crate::util::daemon::{Setup, until_or_show};
use crate::util::receiver::Receiver;

#[tokio::test(flavor = "multi_thread")]
async fn a_press_on_alices_turn_says_alice_brought_the_doughnuts() {
    let r = Receiver::start().await;
    // Today (UTC) is the rota's day and Alice's first turn.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let day = today.strftime("%A").to_string().to_lowercase();
    let extra = format!(
        "[device]\nname = \"3rd floor kitchen\"\ntime_zone = \"UTC\"\n[clock]\ntrust = \"always\"\n\
         [rota]\nday = \"{day}\"\nstart = \"{today}\"\n\
         [[rota.people]]\nname = \"Alice\"\n[[rota.people]]\nname = \"Bob\"\n"
    );
    let setup = Setup::with(&[("hook", r.url("/hook"))], "", &extra);
    setup.edit_config(
        "subject = \"Doughnuts\"",
        "subject = \"{who} brought doughnuts to the {device}\"",
    );

    let mut daemon = setup.start(1);
    daemon.send("press\n");
    until_or_show(
        "the press delivered",
        || !r.accepted().is_empty(),
        || setup.diagnosis(1),
    )
    .await;
    daemon.send("quit\n");
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let got = r.accepted()[0].json();
    assert_eq!(
        got["subject"], "Alice brought doughnuts to the 3rd floor kitchen",
        "{got}"
    );
}
