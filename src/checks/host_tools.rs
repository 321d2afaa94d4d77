//! The verdict of the host's own `openssl` command on a chain pen-doctor judged: the same
//! chain and the same store, run read-only with nothing on its command line but paths of the
//! store and the host name (the leaf on stdin, the intermediates on an inherited pipe), bounded
//! in time and output. Evidence beside ours; a disagreement is a finding of `tls:<target>`.

use crate::hostfs;
use rustls::pki_types::CertificateDer;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The most output kept from the tool.
const MAX_OUTPUT: usize = 4096;
/// The most PEM passed on the pipe (a pipe's buffer holds 64 KiB: written before the spawn).
const MAX_PIPE: usize = 60 * 1024;

/// What the host's tool said.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ToolVerdict {
    pub tool: String,
    /// The TLS library the tool links (`DT_NEEDED`), to compare with PHP's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
    pub verified: bool,
    /// Its own words (first lines, bounded).
    pub result: String,
}

fn pem(der: &[u8]) -> String {
    let b64 = openssl::base64::encode_block(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The `libssl` an executable links, by its `DT_NEEDED` name.
fn tls_library_of(exe: &std::path::Path) -> Option<String> {
    let bytes = hostfs::read_file(exe, hostfs::Kind::Library).ok()?;
    crate::elf::dynamic(&bytes)
        .ok()?
        .needed
        .into_iter()
        .find(|n| n.starts_with("libssl.so") || n.starts_with("libnss3"))
}

/// `openssl verify` of `chain` (leaf first) against `store` (a file or a directory) for `host`,
/// when the host has the tool. `None`: no tool, or nothing to verify.
pub async fn openssl_verify(
    store: &str,
    chain: &[CertificateDer<'_>],
    host: &str,
    timeout: Duration,
) -> Option<ToolVerdict> {
    let exe = ["/usr/bin/openssl", "/bin/openssl", "/usr/local/bin/openssl"]
        .into_iter()
        .map(hostfs::path)
        .find(|p| p.is_file())?;
    let (leaf, rest) = chain.split_first()?;
    let intermediates: String = rest.iter().map(|d| pem(d)).collect();
    if intermediates.len() > MAX_PIPE || host.starts_with('-') || store.starts_with('-') {
        return None;
    }
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.arg("verify");
    cmd.arg(if std::path::Path::new(store).is_dir() { "-CApath" } else { "-CAfile" }).arg(store);
    cmd.arg("-verify_hostname").arg(host);
    cmd.env_clear().env("PATH", "/usr/bin:/bin").kill_on_drop(true);
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    // The intermediates on fd 3 (a pipe filled before the spawn), so no file is written.
    let mut pipe_read: Option<OwnedFd> = None;
    if !rest.is_empty() {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two descriptors into the array we own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: both descriptors were just created and are owned here only.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let mut writer = std::fs::File::from(w);
        std::io::Write::write_all(&mut writer, intermediates.as_bytes()).ok()?;
        drop(writer);
        let raw = r.as_raw_fd();
        // SAFETY: dup2 is async-signal-safe; the new fd 3 does not carry O_CLOEXEC.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(raw, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.arg("-untrusted").arg("/dev/fd/3");
        pipe_read = Some(r);
    }
    let mut child = cmd.spawn().ok()?;
    drop(pipe_read);
    let leaf_pem = pem(leaf);
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            let _ = tokio::io::AsyncWriteExt::write_all(&mut stdin, leaf_pem.as_bytes()).await;
        }
        let mut out = Vec::new();
        if let Some(o) = child.stdout.take() {
            let _ = o.take(MAX_OUTPUT as u64).read_to_end(&mut out).await;
        }
        if let Some(e) = child.stderr.take() {
            let _ = e.take(MAX_OUTPUT as u64).read_to_end(&mut out).await;
        }
        let status = child.wait().await.ok()?;
        Some((status.success(), out))
    };
    let (ok, out) = tokio::time::timeout(timeout, run).await.ok()??;
    let text = String::from_utf8_lossy(&out);
    let result = text.lines().map(str::trim).filter(|l| !l.is_empty()).take(3).collect::<Vec<_>>().join("; ");
    Some(ToolVerdict {
        tool: format!("{} verify", hostfs::display(&exe)),
        library: tls_library_of(&exe),
        verified: ok,
        result: result.chars().take(300).collect(),
    })
}
