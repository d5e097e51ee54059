//! A SIGSEGV or SIGBUS sent by another process ends the daemon, as it ends any C
//! program: `kill -SEGV` is how a supervisor, an admin or the virtual Pi's suite
//! simulates a crash, and systemd must then see a crash and restart the service.
//!
//! Rust's runtime handles both signals to report stack overflows; for any other
//! cause its handler uninstalls itself and returns, expecting the faulting
//! instruction to fault again. A signal sent with `kill` has no faulting instruction,
//! so the daemon ran on as if nothing had happened (rust-lang/rust#140662, open).
//! This handler sits in front of Rust's: a signal sent by a process (`si_code` ≤ 0:
//! SI_USER, SI_QUEUE, SI_TKILL) gets the default action, which ends the process
//! with that signal; a real fault goes on to Rust's handler as before, on the same
//! alternate stack, so a stack overflow is still reported as one.

use std::sync::OnceLock;

/// The handlers that were installed before ours (Rust's), per signal.
static PREVIOUS_SEGV: OnceLock<libc::sigaction> = OnceLock::new();
static PREVIOUS_BUS: OnceLock<libc::sigaction> = OnceLock::new();

fn previous(signal: libc::c_int) -> Option<&'static libc::sigaction> {
    match signal {
        libc::SIGSEGV => PREVIOUS_SEGV.get(),
        libc::SIGBUS => PREVIOUS_BUS.get(),
        _ => None,
    }
}

extern "C" fn on_fault_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler. Only
    // async-signal-safe calls follow: sigaction, raise, and the previous handler.
    unsafe {
        let sent_by_a_process = (*info).si_code <= 0;
        match previous(signal) {
            Some(prev)
                if !sent_by_a_process
                    && prev.sa_flags & libc::SA_SIGINFO != 0
                    && prev.sa_sigaction != libc::SIG_DFL
                    && prev.sa_sigaction != libc::SIG_IGN =>
            {
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(prev.sa_sigaction);
                handler(signal, info, context);
            }
            _ => {
                // The default action: raised now, delivered as this handler returns
                // (the signal is blocked while it runs). A real fault with no
                // previous handler faults again and meets the default action too.
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(signal, &default, std::ptr::null_mut());
                if sent_by_a_process {
                    libc::raise(signal);
                }
            }
        }
    }
}

/// Puts the handler in front of whatever handles SIGSEGV and SIGBUS now. Call once,
/// early, before other threads start.
pub fn install() {
    for (signal, slot) in [
        (libc::SIGSEGV, &PREVIOUS_SEGV),
        (libc::SIGBUS, &PREVIOUS_BUS),
    ] {
        // SAFETY: sigaction with valid pointers; the handler only makes
        // async-signal-safe calls.
        unsafe {
            let mut prev: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut prev) != 0 {
                continue;
            }
            if slot.set(prev).is_err() {
                continue; // installed already
            }
            let mut ours: libc::sigaction = std::mem::zeroed();
            ours.sa_sigaction = on_fault_signal as *const () as usize;
            ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut ours.sa_mask);
            libc::sigaction(signal, &ours, std::ptr::null_mut());
        }
    }
}
