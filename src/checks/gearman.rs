//! `gearman`: gearmand reachable at the configured address, the PEN functions have workers, no
//! queue is stuck, and the known start failure on hosts without IPv6 is predicted.

use super::core::{Check, Ctx};
use crate::hostfs;
use crate::model::code;
use crate::model::Outcome;
use crate::model::{CheckId, Finding, Kind, Severity};
use crate::proto::gearman::{Client, Error, FunctionStatus};
use crate::settings::Settings;
use async_trait::async_trait;
use std::sync::Arc;

/// The gearman functions mod-sei-pen registers (SPEC §3).
pub const PEN_FUNCTIONS: &[&str] = &[
    "enviarProcesso",
    "receberProcedimento",
    "receberReciboTramite",
    "receberTramitesRecusados",
    "receberComponenteDigital",
    "enviarComponenteDigital",
    "enviarReciboTramiteProcesso",
    "expedirBloco",
];

const DEFAULT_ADDR: &str = "127.0.0.1:4730";

/// The message gearmand logs when it cannot open an IPv6 socket.
const IPV6_LOG_MESSAGE: &str = "Address family not supported by protocol";

const GEARMAND_OPTION_FILES: &[&str] = &["/etc/sysconfig/gearmand", "/etc/default/gearman-job-server"];
const GEARMAND_UNITS: &[&str] = &["gearmand.service", "gearman-job-server.service"];
const UNIT_DIRS: &[&str] =
    &["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];
const GEARMAND_LOGS: &[&str] =
    &["/var/log/gearmand.log", "/var/log/gearman-job-server/gearman.log", "/var/log/gearmand/gearmand.log"];

pub struct GearmanCheck {
    /// Whether the address comes from the SEI installation (then `config:sei` comes first).
    from_sei: bool,
}

/// The `gearman` check (where it applies: `plan::applies`).
pub fn checks(settings: &Arc<Settings>) -> Vec<Box<dyn Check>> {
    // The address comes from the SEI configuration unless --gearman named another one.
    let sei_addr = match settings.sei.as_ref().map(|i| i.gearman_plan()) {
        Some(crate::sei::GearmanPlan::Address(a)) => Some(a),
        _ => None,
    };
    let from_sei = settings.sei.is_some() && (settings.gearman.is_none() || settings.gearman == sei_addr);
    vec![Box::new(GearmanCheck { from_sei })]
}

/// Whether the host has no usable IPv6: `/proc/net/if_inet6` absent or empty, or IPv6 disabled.
pub fn host_lacks_ipv6() -> bool {
    let listed = hostfs::read("/proc/net/if_inet6").map(|t| !t.trim().is_empty()).unwrap_or(false);
    let disabled = ["/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"]
        .iter()
        .any(|p| hostfs::read(p).map(|t| t.trim() == "1").unwrap_or(false));
    !listed || disabled
}

/// Whether an option line restricts gearmand to the IPv4 loopback.
fn restricts_listen(text: &str) -> bool {
    text.lines().map(|l| l.trim()).filter(|l| !l.starts_with('#') && !l.starts_with(';')).any(|l| {
        let l = l.replace(['"', '\''], " ");
        let words: Vec<&str> = l.split(|c: char| c.is_whitespace() || c == '=').filter(|w| !w.is_empty()).collect();
        words.windows(2).any(|w| {
            matches!(w[0], "--listen" | "-L" | "--listen-address") && matches!(w[1], "127.0.0.1" | "localhost")
        }) || words.contains(&"-L127.0.0.1")
    })
}

/// What the host says about gearmand's listening addresses and its IPv6 start failure: the
/// finding, the evidence, and the files that exist but could not be read.
fn ipv6_finding() -> (Option<Finding>, serde_json::Value, Vec<hostfs::FileError>) {
    let lacks = host_lacks_ipv6();
    let mut files_seen = Vec::new();
    let mut unreadable = Vec::new();
    let mut restricted_in = None;
    let mut candidates: Vec<String> = GEARMAND_OPTION_FILES.iter().map(|s| s.to_string()).collect();
    for dir in UNIT_DIRS {
        for unit in GEARMAND_UNITS {
            candidates.push(format!("{dir}/{unit}"));
            for dropin in hostfs::list_dir(format!("{dir}/{unit}.d")) {
                candidates.push(hostfs::display(&dropin));
            }
        }
    }
    for file in &candidates {
        match hostfs::read(file) {
            Ok(text) => {
                files_seen.push(file.clone());
                if restricted_in.is_none() && restricts_listen(&text) {
                    restricted_in = Some(file.clone());
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => unreadable.push(e),
        }
    }
    let mut log_hit = None;
    for log in GEARMAND_LOGS {
        // Only the end of a log is read, however large it is.
        match hostfs::read_tail(log, 256 * 1024) {
            Ok(text) => {
                files_seen.push(log.to_string());
                if let Some(line) = text.lines().rev().find(|l| l.contains(IPV6_LOG_MESSAGE)) {
                    log_hit = Some((log.to_string(), line.trim().chars().take(300).collect::<String>()));
                    break;
                }
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => unreadable.push(e),
        }
    }
    let evidence = serde_json::json!({
        "host_has_ipv6": !lacks,
        "files_read": files_seen,
        "listen_restricted_in": restricted_in,
    });
    let finding = if let Some((log, line)) = log_hit {
        Some(Finding::new(code::GEARMAN_IPV6_LISTEN).with("file", log).with("evidence", line).severity(Severity::Fail))
    } else if lacks && restricted_in.is_none() && !files_seen.is_empty() {
        Some(
            Finding::new(code::GEARMAN_IPV6_LISTEN)
                .with("file", files_seen.first().cloned().unwrap_or_default())
                .with("evidence", "--listen=127.0.0.1")
                .severity(Severity::Warn),
        )
    } else {
        None
    };
    (finding, evidence, unreadable)
}

fn push_error(o: &mut Outcome, addr: &str, e: Error, ctx: &Ctx) {
    let f = match e {
        Error::Resolve(err) => Finding::new(code::GEARMAN_DOWN).with("addr", addr).with("error", err),
        Error::Connect(err) => Finding::new(code::GEARMAN_DOWN).with("addr", addr).with("error", err),
        Error::Silent => Finding::new(code::GEARMAN_NOT_RESPONDING)
            .with("addr", addr)
            .with("timeout", crate::duration::humanize(ctx.timeout())),
        Error::Protocol(p) => Finding::new(code::GEARMAN_PROTOCOL_ERROR).with("addr", addr).with("error", p),
        Error::Io(err) => Finding::new(code::GEARMAN_DOWN).with("addr", addr).with("error", err),
    };
    o.push(f);
}

/// The gearman functions the installed module's workers register: its era's (3.1–3.6 register
/// `expedirLote` where later versions register `expedirBloco`), else today's.
pub fn functions_of(era: Option<&crate::eras::Era>) -> Vec<&str> {
    match era {
        Some(e) if !e.gearman_functions.is_empty() => e.gearman_functions.iter().map(String::as_str).collect(),
        _ => PEN_FUNCTIONS.to_vec(),
    }
}

/// The findings about the PEN functions' queues.
pub fn judge(status: &[FunctionStatus]) -> Vec<Finding> {
    judge_functions(status, PEN_FUNCTIONS)
}

/// The findings about the queues of `functions`.
pub fn judge_functions(status: &[FunctionStatus], functions: &[&str]) -> Vec<Finding> {
    let pen: Vec<&FunctionStatus> = status.iter().filter(|s| functions.contains(&s.function.as_str())).collect();
    let mut out = Vec::new();
    let without: Vec<&str> = if pen.iter().all(|s| s.workers == 0) {
        functions.to_vec()
    } else {
        pen.iter().filter(|s| s.workers == 0).map(|s| s.function.as_str()).collect()
    };
    if !without.is_empty() {
        let queued: u64 = pen.iter().filter(|s| without.contains(&s.function.as_str())).map(|s| s.queued()).sum();
        out.push(Finding::new(code::GEARMAN_NO_WORKERS).with("functions", without.join(", ")).with("queued", queued));
    }
    for s in pen.iter().filter(|s| s.queued() > 0 && s.running == 0 && s.workers > 0) {
        out.push(
            Finding::new(code::GEARMAN_QUEUE_STUCK)
                .with("function", &s.function)
                .with("queued", s.queued())
                .with("workers", s.workers),
        );
    }
    out
}

#[async_trait]
impl Check for GearmanCheck {
    fn id(&self) -> CheckId {
        CheckId::of(Kind::Gearman)
    }
    fn depends_on(&self) -> Vec<CheckId> {
        super::core::config_dependency(self.from_sei)
    }

    async fn run(&self, ctx: &Ctx) -> Outcome {
        let s = &ctx.settings;
        // The installation as `config:sei` read it; with another address by `--gearman`, the
        // installation read at start (the address alone came from the flag).
        let sei = ctx.sei(self.from_sei);
        let in_process = sei.is_some_and(|i| i.gearman_plan() == crate::sei::GearmanPlan::InProcess);
        if s.gearman.is_none() && in_process {
            let mut o = Outcome::skipped(
                "GEARMAN_NOT_CONFIGURED: Gearman absent or its Servidor empty in ConfiguracaoModPEN.php; the module runs its work in-process",
            );
            o.push(Finding::new(code::GEARMAN_NOT_CONFIGURED).with("path", "config/mod-pen/ConfiguracaoModPEN.php"));
            return o;
        }
        let addr = s.gearman.clone().unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let has_port = (addr.matches(':').count() == 1 && !addr.starts_with('[')) || addr.contains("]:");
        let addr = if has_port { addr } else { format!("{addr}:4730") };
        let mut o = Outcome::new().evidence("addr", &addr).summary("addr", &addr);
        // The host's files are read off the runtime's threads: a read that blocks (a hung
        // network mount) must not keep the deadline from firing.
        let (ipv6, ipv6_evidence, unreadable) =
            tokio::task::spawn_blocking(ipv6_finding).await.unwrap_or((None, serde_json::Value::Null, Vec::new()));
        o.set_evidence("ipv6", ipv6_evidence);
        if let Some(f) = ipv6 {
            o.push(f);
        }
        for e in &unreadable {
            o.push(super::core::host_file_unreadable(e));
        }

        let mut client = match Client::connect(&addr, &s.resolve_config(), ctx.timeout()).await {
            Ok(c) => c,
            Err(e) => {
                push_error(&mut o, &addr, e, ctx);
                return o;
            }
        };
        match client.version().await {
            Ok(v) => o.set_evidence("version", v),
            Err(e) => {
                push_error(&mut o, &addr, e, ctx);
                return o;
            }
        }
        let status = match client.status().await {
            Ok(st) => st,
            Err(e) => {
                push_error(&mut o, &addr, e, ctx);
                return o;
            }
        };
        o.set_evidence("functions", &status);
        let era = sei.and_then(|i| i.pen_era());
        let functions = functions_of(era);
        o.set_evidence("expected_functions", &functions);
        match client.workers().await {
            Ok(w) => {
                let pen_workers: Vec<_> =
                    w.into_iter().filter(|w| w.functions.iter().any(|f| functions.contains(&f.as_str()))).collect();
                o.set_evidence("pen_workers", pen_workers);
            }
            Err(e) => {
                push_error(&mut o, &addr, e, ctx);
                return o;
            }
        }
        for f in judge_functions(&status, &functions) {
            o.push(f);
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{run_one, Given};
    use crate::cli::CheckArgs;
    use crate::model::check_id::CONFIG_SEI;
    use crate::model::Status;
    use crate::sei::{PenConfig, SeiInstall};

    fn settings_with(pen: PenConfig) -> Settings {
        let mut s = crate::settings::build(CheckArgs::default(), false).expect("default settings");
        s.sei = Some(SeiInstall { usable: true, pen: Some(pen), ..Default::default() });
        s.gearman = None;
        s
    }

    #[tokio::test]
    async fn without_a_gearman_block_processing_runs_through_scheduled_tasks() {
        let planned = checks(&Arc::new(settings_with(PenConfig::default())));
        assert_eq!(planned.len(), 1, "planned on an SEI node");
        assert_eq!(planned[0].depends_on(), ["config:sei"]);
        // The installation comes from `config:sei`'s fact.
        let install = settings_with(PenConfig::default()).sei.expect("an installation");
        let given = Given::new().fact(CONFIG_SEI, Status::Ok, install);
        let o = run_one(settings_with(PenConfig::default()), &CheckId::of(Kind::Gearman), given).await;
        assert_eq!(o.status, Some(Status::Skip));
        assert!(o.skipped_because.as_deref().unwrap_or("").contains("GEARMAN_NOT_CONFIGURED"));
        assert_eq!(o.findings[0].code, "GEARMAN_NOT_CONFIGURED");
    }

    #[test]
    fn a_flag_address_does_not_wait_for_the_sei_configuration() {
        let mut s = settings_with(PenConfig { gearman: Some(("10.0.0.5".into(), 4730)), ..Default::default() });
        s.gearman = Some("10.0.0.5:4730".into());
        assert_eq!(checks(&Arc::new(s)).remove(0).depends_on(), ["config:sei"]);
        let mut s = settings_with(PenConfig::default());
        s.gearman = Some("127.0.0.1:4731".into());
        assert!(checks(&Arc::new(s)).remove(0).depends_on().is_empty());
    }

    #[test]
    fn judges_queues() {
        let st = |f: &str, t, r, w| FunctionStatus { function: f.into(), total: t, running: r, workers: w };
        assert!(judge(&[st("enviarProcesso", 0, 0, 1), st("receberProcedimento", 2, 1, 1)]).is_empty());
        let f = judge(&[st("enviarProcesso", 0, 0, 1), st("receberProcedimento", 3, 0, 0)]);
        assert_eq!(f[0].code, "GEARMAN_NO_WORKERS");
        assert_eq!(f[0].params["functions"], "receberProcedimento");
        let f = judge(&[st("other", 0, 0, 1)]);
        assert_eq!(f[0].code, "GEARMAN_NO_WORKERS");
        assert!(f[0].params["functions"].contains("expedirBloco"));
        assert!(restricts_listen("OPTIONS=\"--listen=127.0.0.1\""));
        assert!(restricts_listen("PARAMS=\"--listen=localhost --port=4730\""));
        assert!(restricts_listen("ExecStart=/usr/sbin/gearmand -L 127.0.0.1 --syslog"));
        assert!(!restricts_listen("#OPTIONS=\"--listen=127.0.0.1\""));
        assert!(!restricts_listen("PARAMS=\"--listen=0.0.0.0\""));
    }
}
