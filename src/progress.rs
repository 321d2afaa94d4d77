//! A progress line on stderr while the checks run ("verificando… 7/15"), redrawn in place.
//! Shown only when stderr is a terminal, so logs and pipes never see it.

use crate::messages::msg;
use crate::model::Lang;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub struct Progress {
    total: usize,
    done: AtomicUsize,
    label: &'static str,
}

impl Progress {
    /// A progress line for `total` checks, or `None` when stderr is not a terminal.
    pub fn on_tty(total: usize, lang: Lang) -> Option<Arc<Progress>> {
        if !std::io::stderr().is_terminal() || total == 0 {
            return None;
        }
        let label = msg(lang, "progress.checking");
        let p = Arc::new(Progress { total, done: AtomicUsize::new(0), label });
        p.draw(0);
        Some(p)
    }

    fn draw(&self, done: usize) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{} {done}/{}", self.label, self.total);
        let _ = err.flush();
    }

    /// One more check finished.
    pub fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        self.draw(done.min(self.total));
    }

    /// Erases the line before the report is written.
    pub fn finish(&self) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}
