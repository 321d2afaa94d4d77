//! Writes a rendered report to stdout or to `--output FILE` atomically (a temporary file in the
//! same directory, then a rename), so a collector never reads half a file.

use std::io::Write;
use std::path::Path;

pub fn write(bytes: &[u8], output: Option<&Path>) -> std::io::Result<()> {
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Some(path) => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
            let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
            let result = (|| {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, path)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
    }
}
