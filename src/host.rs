//! Facts about the machine pen-doctor runs on: hostname, OS and its family (which decides the
//! fix steps shown), kernel, and whether an address names this machine.

use crate::hostfs::{self, Kind};
use crate::model::HostInfo;
use std::path::Path;

pub use crate::model::OsFamily;

/// Reads `/etc/os-release` (or `/etc/redhat-release` on CentOS 6): the pretty name and family.
pub fn detect_os(os_release: Option<&str>, redhat_release: Option<&str>) -> (String, OsFamily) {
    if let Some(text) = os_release {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .map(|v| v.trim().trim_matches('"').to_string())
        };
        let id = field("ID").unwrap_or_default();
        let like = field("ID_LIKE").unwrap_or_default();
        let version = field("VERSION_ID").unwrap_or_default();
        let pretty = field("PRETTY_NAME").unwrap_or_else(|| format!("{id} {version}"));
        let words: Vec<&str> = id.split_whitespace().chain(like.split_whitespace()).collect();
        let family = if words.iter().any(|w| *w == "debian" || *w == "ubuntu") {
            OsFamily::Debian
        } else if words.iter().any(|w| matches!(*w, "rhel" | "centos" | "fedora")) {
            let major: u32 = version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(8);
            match major {
                0..=6 => OsFamily::Rhel6,
                7 => OsFamily::Rhel7,
                _ => OsFamily::Rhel8,
            }
        } else {
            OsFamily::Other
        };
        return (pretty, family);
    }
    if let Some(text) = redhat_release {
        let line = text.lines().next().unwrap_or("").trim().to_string();
        let major =
            line.split_whitespace().find_map(|w| w.split('.').next().and_then(|m| m.parse::<u32>().ok())).unwrap_or(6);
        let family = match major {
            0..=6 => OsFamily::Rhel6,
            7 => OsFamily::Rhel7,
            _ => OsFamily::Rhel8,
        };
        return (line, family);
    }
    ("desconhecido".to_string(), OsFamily::Other)
}

/// Whether `host` is this machine: loopback, `localhost`, this host's name, or an address
/// assigned to one of its interfaces (binding a socket to it succeeds; nothing is sent).
pub fn is_local(host: &str, hostname: &str) -> bool {
    let host = host.trim().trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case("localhost.localdomain")
        || (!hostname.is_empty() && host.eq_ignore_ascii_case(hostname))
        || (!hostname.is_empty() && host.split('.').next().is_some_and(|h| h.eq_ignore_ascii_case(hostname)))
    {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_loopback() => true,
        Ok(ip) => std::net::UdpSocket::bind((ip, 0)).is_ok(),
        Err(_) => false,
    }
}

/// This host's facts.
pub fn host_info() -> (HostInfo, OsFamily) {
    let read = |path: &str, kind| hostfs::read_lossy(Path::new(path), kind).ok();
    let os_release = read("/etc/os-release", Kind::HostConfig);
    let redhat = read("/etc/redhat-release", Kind::HostConfig);
    let (os, family) = detect_os(os_release.as_deref(), redhat.as_deref());
    let hostname = read("/proc/sys/kernel/hostname", Kind::Kernel).map(|s| s.trim().to_string()).unwrap_or_default();
    let kernel = read("/proc/sys/kernel/osrelease", Kind::Kernel).map(|s| s.trim().to_string()).unwrap_or_default();
    (HostInfo { hostname, os, os_family: family.report_name().to_string(), kernel }, family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        let deb = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";
        assert_eq!(detect_os(Some(deb), None).1, OsFamily::Debian);
        let ubuntu = "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n";
        assert_eq!(detect_os(Some(ubuntu), None).1, OsFamily::Debian);
        let c7 = "NAME=\"CentOS Linux\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n";
        assert_eq!(detect_os(Some(c7), None).1, OsFamily::Rhel7);
        let rocky = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n";
        assert_eq!(detect_os(Some(rocky), None).1, OsFamily::Rhel8);
        let c6 = "CentOS release 6.10 (Final)\n";
        let (name, fam) = detect_os(None, Some(c6));
        assert_eq!((name.as_str(), fam), ("CentOS release 6.10 (Final)", OsFamily::Rhel6));
        assert_eq!(detect_os(Some("ID=alpine\nVERSION_ID=3.19\n"), None).1, OsFamily::Other);
    }

    #[test]
    fn local_addresses() {
        assert!(is_local("127.0.0.1", "sei1"));
        assert!(is_local("::1", "sei1"));
        assert!(is_local("localhost", "sei1"));
        assert!(is_local("SEI1.orgao.gov.br", "sei1"));
        assert!(!is_local("sei2.orgao.gov.br", "sei1"));
        assert!(!is_local("192.0.2.1", "sei1"));
    }
}
