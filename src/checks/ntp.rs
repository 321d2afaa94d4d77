//! `ntp`: the kernel's synchronisation state (adjtimex, read-only), the clock's offset to the
//! NTP servers measured by SNTP, and which time daemon runs and whether it uses NTP.br.

use super::core::{Check, Ctx};
use super::facts::{DateSample, HttpFact};
use crate::hostfs;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, Severity};
use crate::proto::sntp;
use crate::settings::Settings;
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;

/// What the clock check learned, for checks that judge dates (certificate validity).
#[derive(Clone, Debug, PartialEq)]
pub struct ClockFacts {
    /// The best measured offset (server minus local), in seconds.
    pub offset_secs: Option<f64>,
    /// The kernel says the clock is synchronised.
    pub synchronized: bool,
}

pub struct NtpCheck {
    /// The `http:<target>` checks whose answers' `Date` is the second clock.
    http_checks: Vec<CheckId>,
}

/// The `ntp` check always runs: the clock matters for TLS everywhere.
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    vec![Box::new(NtpCheck {
        http_checks: settings.targets.iter().map(|t| CheckId::target(Kind::Http, t.name)).collect(),
    })]
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.
pub fn parse_http_date(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, hms, "GMT"] = parts.as_slice() else { return None };
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months.iter().position(|m| m == month)? as u8 + 1;
    let date =
        time::Date::from_calendar_date(year.parse().ok()?, time::Month::try_from(month).ok()?, day.parse().ok()?)
            .ok()?;
    let mut t = hms.split(':').map(|x| x.parse::<u8>().ok());
    let (h, m, sec) = (t.next()??, t.next()??, t.next()??);
    let time = time::Time::from_hms(h, m, sec).ok()?;
    Some(time::PrimitiveDateTime::new(date, time).assume_utc().unix_timestamp())
}

impl DateSample {
    pub fn new(url: &str, date: &str, sent: std::time::SystemTime, received: std::time::SystemTime) -> Option<Self> {
        let server = parse_http_date(date)? as f64;
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default()
        };
        let (sent, received) = (secs(sent), secs(received));
        // The server wrote `Date` at some true moment between our send and our receipt, and
        // its clock then read between `server` and `server + 1`.
        let low = server - received;
        let high = server + 1.0 - sent;
        let offset_secs = if low > 0.0 {
            low
        } else if high < 0.0 {
            high
        } else {
            0.0
        };
        Some(DateSample {
            url: url.chars().take(300).collect(),
            date: date.chars().take(64).collect(),
            offset_secs,
            uncertainty_secs: high - low,
        })
    }
}

/// The kernel's clock discipline state.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct KernelClock {
    pub synchronized: bool,
    pub status: i64,
    /// Maximum error, microseconds.
    pub maxerror_us: i64,
    /// Estimated error, microseconds.
    pub esterror_us: i64,
    pub source: &'static str,
}

const STA_UNSYNC: i64 = 0x0040;
const TIME_ERROR: i32 = 5;

/// Reads the kernel state with adjtimex (modes = 0: read only). A fixture root holding `proc/`
/// may provide `proc/adjtimex` (`status=0x40 maxerror=16000000 esterror=16000000`) instead,
/// since the real state cannot be changed by a test.
pub fn kernel_clock() -> Option<KernelClock> {
    let fixture = hostfs::path("/proc/adjtimex");
    if fixture != std::path::Path::new("/proc/adjtimex") {
        let text = hostfs::read_real(&fixture).ok()?;
        let field = |name: &str| -> Option<i64> {
            let v = text.split_whitespace().find_map(|w| w.strip_prefix(&format!("{name}=")))?;
            match v.strip_prefix("0x") {
                Some(h) => i64::from_str_radix(h, 16).ok(),
                None => v.parse().ok(),
            }
        };
        let status = field("status")?;
        return Some(KernelClock {
            synchronized: status & STA_UNSYNC == 0,
            status,
            maxerror_us: field("maxerror").unwrap_or(0),
            esterror_us: field("esterror").unwrap_or(0),
            source: "fixture",
        });
    }
    kernel_adjtimex()
}

#[cfg(target_os = "linux")]
fn kernel_adjtimex() -> Option<KernelClock> {
    // SAFETY: `timex` is plain data; zeroed it is a valid read-only request (modes = 0), and
    // adjtimex only writes into the struct we own.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state < 0 {
        return None;
    }
    let status = tx.status as i64;
    Some(KernelClock {
        synchronized: status & STA_UNSYNC == 0 && state != TIME_ERROR,
        status,
        maxerror_us: tx.maxerror as i64,
        esterror_us: tx.esterror as i64,
        source: "adjtimex",
    })
}

#[cfg(not(target_os = "linux"))]
fn kernel_adjtimex() -> Option<KernelClock> {
    None
}

/// `12.3 s`, `250 ms`: an offset as people read it (sign kept).
pub fn format_offset(secs: f64) -> String {
    if secs.abs() >= 1.0 {
        format!("{secs:.1} s")
    } else {
        format!("{:.0} ms", secs * 1000.0)
    }
}

/// The time daemons this host runs, from `/proc/*/comm`.
fn running_daemons() -> Vec<String> {
    let mut found = Vec::new();
    for dir in hostfs::list_dir("/proc") {
        let is_pid = dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        if !is_pid {
            continue;
        }
        let Ok(comm) = hostfs::read_real(&dir.join("comm")) else { continue };
        let comm = comm.trim();
        if matches!(comm, "chronyd" | "ntpd" | "systemd-timesyn" | "systemd-timesyncd" | "openntpd")
            && !found.iter().any(|d: &String| d.starts_with(comm))
        {
            found.push(if comm == "systemd-timesyn" { "systemd-timesyncd".to_string() } else { comm.to_string() });
        }
    }
    found
}

/// The configuration files of a daemon (host paths), main file first.
fn daemon_configs(daemon: &str) -> Vec<String> {
    let (files, dirs): (&[&str], &[&str]) = match daemon {
        "chronyd" => (
            &["/etc/chrony.conf", "/etc/chrony/chrony.conf"],
            &["/etc/chrony/conf.d", "/etc/chrony/sources.d", "/etc/chrony.d"],
        ),
        "ntpd" | "openntpd" => (&["/etc/ntp.conf", "/etc/ntpsec/ntp.conf", "/etc/openntpd/ntpd.conf"], &[]),
        _ => (&["/etc/systemd/timesyncd.conf"], &["/etc/systemd/timesyncd.conf.d"]),
    };
    let mut out: Vec<String> = files.iter().filter(|f| hostfs::exists(f)).map(|f| f.to_string()).collect();
    for d in dirs {
        let wanted = |p: &std::path::Path| p.extension().is_some_and(|e| e == "conf" || e == "sources");
        out.extend(hostfs::list_dir(d).iter().filter(|p| wanted(p)).map(|p| hostfs::display(p)));
    }
    out
}

/// What this host says about its clock, read from `/proc`, adjtimex and the daemon's files.
#[derive(Default)]
struct HostSide {
    kernel: Option<KernelClock>,
    daemons: Vec<String>,
    /// The first daemon's configuration files (host paths).
    config_files: Vec<String>,
    /// Whether one of them names an NTP.br server.
    uses_ntp_br: bool,
    unreadable: Vec<hostfs::FileError>,
}

fn host_side() -> HostSide {
    let mut out = HostSide { kernel: kernel_clock(), daemons: running_daemons(), ..Default::default() };
    if let Some(d) = out.daemons.first() {
        out.config_files = daemon_configs(d);
        for f in &out.config_files {
            match hostfs::read(f) {
                Ok(t) if names_ntp_br(&t) => {
                    out.uses_ntp_br = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => out.unreadable.push(e),
            }
        }
    }
    out
}

/// Whether a configuration names an NTP.br server in a line that is not a comment.
fn names_ntp_br(text: &str) -> bool {
    text.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.starts_with(';')).any(|l| l.contains("ntp.br"))
}

#[async_trait]
impl Check for NtpCheck {
    fn id(&self) -> CheckId {
        CheckId::of(Kind::Ntp)
    }
    fn uses(&self) -> Vec<CheckId> {
        self.http_checks.clone()
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let s = &ctx.settings;
        let mut o = Outcome::new();
        // The host's files are read off the runtime's threads: a read that blocks (a hung
        // network mount) must not keep the deadline from firing.
        let host = tokio::task::spawn_blocking(host_side).await.unwrap_or_default();
        let kernel = host.kernel;
        o.set_evidence("kernel", &kernel);

        let resolve = s.resolve_config();
        let queries = s.ntp_servers.iter().map(|srv| {
            let srv = srv.clone();
            let timeout = ctx.timeout();
            let resolve = &resolve;
            async move {
                let (addr, r) = sntp::query(&srv, resolve, timeout).await;
                (srv, addr, r)
            }
        });
        let results = futures::future::join_all(queries).await;
        let mut servers = Vec::new();
        let mut best: Option<(String, sntp::Sample)> = None;
        let mut errors = Vec::new();
        for (srv, addr, r) in results {
            match r {
                Ok(sample) => {
                    servers.push(json!({
                        "server": srv, "address": addr.map(|a| a.to_string()),
                        "offset": format_offset(sample.offset), "offset_secs": sample.offset,
                        "delay_ms": (sample.delay * 1000.0 * 10.0).round() / 10.0,
                        "stratum": sample.stratum, "reference": sample.reference,
                    }));
                    if best.as_ref().is_none_or(|(_, b)| sample.delay < b.delay) {
                        best = Some((srv, sample));
                    }
                }
                Err(e) => {
                    servers
                        .push(json!({"server": srv, "address": addr.map(|a| a.to_string()), "error": e.to_string()}));
                    errors.push(format!("{srv}: {e}"));
                }
            }
        }
        o.set_evidence("servers", servers);

        let warn = s.ntp_warn.as_secs_f64();
        let crit = s.ntp_crit.as_secs_f64();
        // The limits the offset was judged by (--ntp-warn/--ntp-crit), for monitoring's thresholds.
        o.set_evidence("thresholds", json!({"warn_secs": warn, "crit_secs": crit}));
        o.measures.offset_warn_secs = Some(warn);
        o.measures.offset_crit_secs = Some(crit);
        let offset: Option<f64> = best.as_ref().map(|(_, b)| b.offset);
        match &best {
            Some((srv, b)) => {
                o.set_evidence("offset", format_offset(b.offset));
                o.summary.insert("offset", format_offset(b.offset));
                o.summary.insert("server", srv.clone());
                if b.offset.abs() > warn {
                    let (sev, limit) =
                        if b.offset.abs() > crit { (Severity::Fail, crit) } else { (Severity::Warn, warn) };
                    o.set_evidence("tls_validity_at_risk", true);
                    o.push(
                        Finding::new(code::NTP_OFFSET_HIGH)
                            .with("offset", format_offset(b.offset))
                            .with("server", srv)
                            .with("threshold", format_offset(limit))
                            .severity(sev),
                    );
                }
            }
            None if !s.ntp_servers.is_empty() => {
                o.push(
                    Finding::new(code::NTP_UNREACHABLE)
                        .with("servers", s.ntp_servers.join(", "))
                        .with("error", errors.join("; ")),
                );
            }
            None => {}
        }
        // No NTP answer: the `Date` of the services' HTTPS answers is the second clock.
        let mut offset = offset;
        if best.is_none() {
            let second = self
                .http_checks
                .iter()
                .filter_map(|id| ctx.fact::<HttpFact>(id).and_then(|f| f.clock.clone()))
                .min_by(|a, b| a.uncertainty_secs.total_cmp(&b.uncertainty_secs));
            if let Some(d) = second {
                o.set_evidence("offset", format_offset(d.offset_secs));
                o.set_evidence("offset_source", json!({"source": "http-date", "url": &d.url, "date": &d.date}));
                o.summary.insert("offset", format_offset(d.offset_secs));
                o.summary.insert("server", format!("{} (Date)", d.url));
                offset = Some(d.offset_secs);
                if d.offset_secs.abs() > warn {
                    let (sev, limit) =
                        if d.offset_secs.abs() > crit { (Severity::Fail, crit) } else { (Severity::Warn, warn) };
                    o.set_evidence("tls_validity_at_risk", true);
                    o.push(
                        Finding::new(code::NTP_OFFSET_HIGH)
                            .with("offset", format_offset(d.offset_secs))
                            .with("server", format!("{} (Date)", d.url))
                            .with("threshold", format_offset(limit))
                            .severity(sev),
                    );
                }
            }
        }

        if let Some(k) = &kernel {
            if !k.synchronized {
                // Unsynchronised now but measured close to the servers: the clock drifts freely.
                let sev = match offset {
                    Some(off) if off.abs() <= warn => Severity::Warn,
                    _ => Severity::Fail,
                };
                o.push(Finding::new(code::NTP_UNSYNCHRONIZED).with("maxerror_ms", k.maxerror_us / 1000).severity(sev));
            }
        }

        o.set_evidence("daemons", &host.daemons);
        match host.daemons.first() {
            None => o.push(Finding::new(code::NTP_NO_DAEMON)),
            Some(d) => {
                o.set_evidence("daemon_config", &host.config_files);
                if !host.uses_ntp_br {
                    let file = host.config_files.first().cloned().unwrap_or_else(|| "-".into());
                    o.push(Finding::new(code::NTP_NOT_NTP_BR).with("daemon", d).with("file", file));
                }
            }
        }
        for e in &host.unreadable {
            o.push(super::core::host_file_unreadable(e));
        }

        o.measures.offset_secs = offset.filter(|x| x.is_finite());
        o.set_fact(ClockFacts { offset_secs: offset, synchronized: kernel.as_ref().is_none_or(|k| k.synchronized) });
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_and_the_second_clock() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784111777));
        for bad in
            ["", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 99:49:37 GMT"]
        {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        let at = |secs: f64| std::time::UNIX_EPOCH + std::time::Duration::from_secs_f64(secs);
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        // Sent and received within the second the server wrote: the clocks may agree.
        let d = DateSample::new("https://x/", date, at(784111777.2), at(784111777.4)).unwrap();
        assert_eq!(d.offset_secs, 0.0);
        // The server is 40 s ahead: at least 40 s minus the round trip and the rounding.
        let d = DateSample::new("https://x/", date, at(784111737.2), at(784111737.5)).unwrap();
        assert!((39.4..=39.6).contains(&d.offset_secs), "{d:?}");
        // Behind, by at least 9 s.
        let d = DateSample::new("https://x/", date, at(784111787.0), at(784111787.1)).unwrap();
        assert!((-9.1..=-8.9).contains(&d.offset_secs), "{d:?}");
    }
}
