//! What the machine says about itself: the few facts the config and the sinks read
//! from the kernel (the default device name, the email sink's EHLO name).

/// The kernel's hostname (`uname -n`); a non-UTF-8 byte (never seen in practice)
/// becomes U+FFFD rather than an error, as the callers validate what they use.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}
