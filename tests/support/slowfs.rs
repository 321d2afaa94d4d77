//! A very slow network filesystem, for real: `slowfs.py` (FUSE, python3-llfuse) mirrors a
//! directory and answers every read of file data only after a delay, as an NFS or CIFS share
//! does when its server struggles. Unmounted and stopped on drop.

use super::{which, Proc};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct SlowFs {
    mountpoint: PathBuf,
    server: Option<Proc>,
}

impl SlowFs {
    /// Mounts `source` read-only at `mountpoint` (an empty directory), each data read taking
    /// `delay`. The server's log goes next to the mount point.
    pub fn mount(source: &Path, mountpoint: &Path, delay: Duration) -> SlowFs {
        // Debian's python3, where python3-llfuse is installed (not a python3 earlier in PATH).
        let python = Path::new("/usr/bin/python3");
        assert!(python.is_file(), "/usr/bin/python3 is missing; run ./scripts/setup-test-deps");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/slowfs.py");
        let mut cmd = Command::new(python);
        cmd.arg(script).arg(source).arg(mountpoint).arg(delay.as_millis().to_string());
        let log = mountpoint.parent().unwrap_or(Path::new("/tmp")).join("slowfs.log");
        let mut server = Proc::spawn("slowfs (FUSE)", cmd, log);
        server.wait_ready(|log| log.contains("ready"));
        SlowFs { mountpoint: mountpoint.to_path_buf(), server: Some(server) }
    }
}

impl Drop for SlowFs {
    fn drop(&mut self) {
        // Detach first, so that nothing new reaches the server, then stop it.
        let _ = Command::new(which("umount")).arg("-l").arg(&self.mountpoint).status();
        drop(self.server.take());
    }
}
