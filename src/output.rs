//! Writes a rendered report to stdout or to `--output FILE`. A regular file is replaced
//! atomically (a temporary file in the same directory, then a rename), so a collector never
//! reads half a file; a device or pipe (`/dev/null`, a FIFO) is written in place, never replaced.

use std::io::Write;
use std::path::Path;

pub fn write(bytes: &[u8], output: Option<&Path>) -> std::io::Result<()> {
    let Some(path) = output else {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        return out.flush();
    };
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            if meta.is_dir() {
                return Err(std::io::Error::other(format!("{} is a directory", path.display())));
            }
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            f.write_all(bytes)?;
            f.flush()
        }
        _ => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn replaces_a_regular_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old content that is longer").unwrap();
        write(b"new", Some(&path)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_device_is_written_not_replaced() {
        write(b"report", Some(Path::new("/dev/null"))).unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null must stay a device");
    }

    #[test]
    fn a_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(b"x", Some(dir.path())).is_err());
    }
}
