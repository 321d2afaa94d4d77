//! The last resort behind `--deadline`: a thread that ends the process shortly after the
//! deadline when the run has not ended by itself (a read stuck in the kernel, a write nobody
//! takes). It says so on stderr — and, for Nagios, in an UNKNOWN line on stdout — and exits
//! with the code of a run that could not finish (1; Nagios 3), without waiting for anything:
//! the writes happen in a helper thread and the process ends after a short grace either way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long after the deadline the watchdog fires: the run ends by `--deadline` + 1 s.
pub const GRACE: Duration = Duration::from_millis(700);

/// How long the watchdog waits for its message to be written before it ends the process.
const WRITE_GRACE: Duration = Duration::from_millis(100);

/// Armed until dropped.
pub struct Watchdog {
    done: Arc<AtomicBool>,
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

/// Arms the watchdog of a run that started at `started` with `deadline`; `nagios` selects the
/// plugin's way of saying it. Never fails: without a thread there is no watchdog.
pub fn arm(started: Instant, deadline: Duration, nagios: bool) -> Watchdog {
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    let fire_at = started + deadline + GRACE;
    let _ = std::thread::Builder::new().name("watchdog".into()).spawn(move || {
        std::thread::sleep(fire_at.saturating_duration_since(Instant::now()));
        if flag.load(Ordering::SeqCst) {
            return;
        }
        let text = format!(
            "the run did not end within --deadline {} (stopped after {})",
            crate::duration::humanize(deadline),
            crate::duration::humanize(started.elapsed())
        );
        let (stdout, code) = if nagios { (Some(format!("UNKNOWN - pen-doctor: {text}\n")), 3) } else { (None, 1) };
        let stderr = format!("pen-doctor: {text}\n");
        // Either write may block (a full pipe): each gets its own thread, and a short grace.
        for (fd, text) in [(2, Some(stderr)), (1, stdout)] {
            if let Some(text) = text {
                let _ = std::thread::Builder::new().name("watchdog-write".into()).spawn(move || {
                    raw_write(fd, text.as_bytes());
                });
            }
        }
        std::thread::sleep(WRITE_GRACE);
        if !flag.load(Ordering::SeqCst) {
            // SAFETY: `_exit` ends the process at once; nothing of this process is used after.
            unsafe { libc::_exit(code) };
        }
    });
    Watchdog { done }
}

/// Writes to a file descriptor without Rust's stdout/stderr locks, which the stuck thread may
/// hold.
fn raw_write(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes for the whole call.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}
