//! The eras of mod-sei-pen, loaded from `checks/eras.toml`: for an installed module version,
//! which configuration source, API family, keys, scripts, scheduled tasks, gearman functions and
//! SEI versions apply, and who verifies the server certificate. Checks judge an installation
//! against its era instead of carrying version `if`s of their own.

use serde::Deserialize;
use std::cmp::Ordering;
use std::fmt;
use std::sync::OnceLock;

/// A dotted version such as `4.0.3` or SUPER's `4.0.12.15`, compared component by component
/// (missing components are 0; a suffix such as `-beta` is ignored for ordering and equality).
#[derive(Clone, Debug)]
pub struct Version {
    parts: Vec<u32>,
    text: String,
}

impl Version {
    /// Reads `4.0.3`, `v4.0.3`, `4.2.0-beta`; `None` when no leading number is found.
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let numeric: &str = t.split(|c: char| !(c.is_ascii_digit() || c == '.')).next().unwrap_or("");
        let parts: Vec<u32> =
            numeric.split('.').filter(|p| !p.is_empty()).map_while(|p| p.parse().ok()).take(6).collect();
        if parts.is_empty() {
            return None;
        }
        Some(Version { parts, text: text.trim().to_string() })
    }

    fn part(&self, i: usize) -> u32 {
        self.parts.get(i).copied().unwrap_or(0)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        (0..n).map(|i| self.part(i).cmp(&other.part(i))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An inclusive range of versions, written `from-to` in the table.
#[derive(Clone, Debug)]
pub struct VersionRange {
    pub from: Version,
    pub to: Version,
}

impl VersionRange {
    fn parse(text: &str) -> Option<VersionRange> {
        let (a, b) = text.split_once('-')?;
        Some(VersionRange { from: Version::parse(a)?, to: Version::parse(b)? })
    }

    pub fn contains(&self, v: &Version) -> bool {
        &self.from <= v && v <= &self.to
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}–{}", self.from, self.to)
        }
    }
}

/// Where the module reads its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigSource {
    /// `md_pen_parametro` in SEI's database (1.x).
    Database,
    /// `config/mod-pen/ConfiguracaoModPEN.php` (2.0 on).
    File,
}

/// The API family the `WebService` address must speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Soap,
    Rest,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Soap => "soap",
            Api::Rest => "rest",
        }
    }
}

/// When a path of the module verifies the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsVerification {
    Always,
    /// Only when `ConfiguracaoSEI.php` has `SEI > Producao` true.
    Producao,
    Never,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEra {
    id: String,
    from: String,
    until: String,
    config_source: ConfigSource,
    api: Api,
    api_versions: Vec<String>,
    required_keys: Vec<String>,
    nonempty_keys: Vec<String>,
    optional_keys: Vec<String>,
    numeric_keys: Vec<String>,
    monitors: Vec<String>,
    workers: Vec<String>,
    supervisor_programs: Vec<String>,
    scheduled_tasks: Vec<String>,
    gearman_functions: Vec<String>,
    gearman_configurable: bool,
    #[serde(default)]
    gearman_fixed_address: Option<String>,
    verifier_files: Vec<String>,
    api_calls_verify_tls: TlsVerification,
    verifier_verifies_tls: TlsVerification,
    monitors_carry_worker: bool,
    supervisor_sample_broken: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCompatibility {
    module: String,
    sei: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRemoved {
    script: String,
    removed_in: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscontinued {
    api: Api,
    version: String,
    since: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetiredHost {
    suffix: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhpRequirement {
    module: String,
    sapi: String,
    functions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    era: Vec<RawEra>,
    #[serde(default)]
    compatibility: Vec<RawCompatibility>,
    #[serde(default)]
    removed_script: Vec<RawRemoved>,
    #[serde(default)]
    numeric_default: std::collections::BTreeMap<String, i64>,
    #[serde(default)]
    discontinued_api: Vec<RawDiscontinued>,
    #[serde(default)]
    retired_host: Vec<RawRetiredHost>,
    #[serde(default)]
    php_requirement: Vec<RawPhpRequirement>,
}

/// An API version the agency switched off.
#[derive(Clone, Debug)]
pub struct Discontinued {
    pub api: Api,
    pub version: String,
    /// The day it stopped answering (`2024-01-02`).
    pub since: String,
}

/// Functions of PHP a range of module versions needs in the PHP its `sapi` runs.
#[derive(Clone, Debug)]
pub struct PhpRequirement {
    pub module: VersionRange,
    /// `cli`: the workers; `web`: the pages.
    pub sapi: String,
    /// Function names; a final `*` makes a prefix (`pcntl_*`).
    pub functions: Vec<String>,
}

impl PhpRequirement {
    /// The entries of `disabled` this requirement needs.
    pub fn needed_among<'a>(&self, disabled: &'a [String]) -> Vec<&'a str> {
        disabled
            .iter()
            .map(String::as_str)
            .filter(|d| {
                self.functions.iter().any(|f| match f.strip_suffix('*') {
                    Some(prefix) => d.to_ascii_lowercase().starts_with(&prefix.to_ascii_lowercase()),
                    None => d.eq_ignore_ascii_case(f),
                })
            })
            .collect()
    }
}

/// One era of the module: the facts every version in `[from, until)` shares.
#[derive(Clone, Debug)]
pub struct Era {
    pub id: String,
    pub from: Version,
    pub until: Version,
    pub config_source: ConfigSource,
    pub api: Api,
    /// Versions the `WebService` path may name (`v3`…).
    pub api_versions: Vec<String>,
    pub required_keys: Vec<String>,
    pub nonempty_keys: Vec<String>,
    pub optional_keys: Vec<String>,
    pub numeric_keys: Vec<String>,
    /// Scripts relative to the SEI root; `{module}` is the module's own directory.
    pub monitors: Vec<String>,
    pub workers: Vec<String>,
    pub supervisor_programs: Vec<String>,
    pub scheduled_tasks: Vec<String>,
    pub gearman_functions: Vec<String>,
    pub gearman_configurable: bool,
    /// The address a module that reads no gearman configuration always uses.
    pub gearman_fixed_address: Option<String>,
    pub verifier_files: Vec<String>,
    pub api_calls_verify_tls: TlsVerification,
    pub verifier_verifies_tls: TlsVerification,
    pub monitors_carry_worker: bool,
    pub supervisor_sample_broken: bool,
}

impl Era {
    pub fn contains(&self, v: &Version) -> bool {
        &self.from <= v && v < &self.until
    }

    /// Whether the module reads `key` (required or optional) in this era.
    pub fn knows_key(&self, key: &str) -> bool {
        self.required_keys.iter().chain(&self.optional_keys).any(|k| k == key)
    }

    /// Every script that must run (monitors, then workers).
    pub fn scripts(&self) -> impl Iterator<Item = &str> {
        self.monitors.iter().chain(&self.workers).map(String::as_str)
    }
}

/// A script an earlier era ran and a later version removed.
#[derive(Clone, Debug)]
pub struct RemovedScript {
    pub script: String,
    pub removed_in: Version,
}

/// The whole table.
#[derive(Debug)]
pub struct Eras {
    pub eras: Vec<Era>,
    compatibility: Vec<(VersionRange, Vec<VersionRange>)>,
    pub removed_scripts: Vec<RemovedScript>,
    numeric_default: std::collections::BTreeMap<String, i64>,
    pub discontinued_apis: Vec<Discontinued>,
    /// Host name suffixes the agency retired (`.trafficmanager.net`).
    pub retired_hosts: Vec<String>,
    pub php_requirements: Vec<PhpRequirement>,
}

fn version(text: &str, what: &str) -> Result<Version, String> {
    Version::parse(text).ok_or_else(|| format!("{what}: invalid version '{text}'"))
}

fn range(text: &str, what: &str) -> Result<VersionRange, String> {
    VersionRange::parse(text).ok_or_else(|| format!("{what}: invalid range '{text}' (expected FROM-TO)"))
}

impl Eras {
    /// Parses and validates a table (`checks/eras.toml`).
    pub fn parse(text: &str) -> Result<Eras, String> {
        let raw: RawTable = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut eras = Vec::new();
        for r in raw.era {
            let from = version(&r.from, &r.id)?;
            let until = version(&r.until, &r.id)?;
            if from >= until {
                return Err(format!("era {}: from {from} is not below until {until}", r.id));
            }
            eras.push(Era {
                id: r.id,
                from,
                until,
                config_source: r.config_source,
                api: r.api,
                api_versions: r.api_versions,
                required_keys: r.required_keys,
                nonempty_keys: r.nonempty_keys,
                optional_keys: r.optional_keys,
                numeric_keys: r.numeric_keys,
                monitors: r.monitors,
                workers: r.workers,
                supervisor_programs: r.supervisor_programs,
                scheduled_tasks: r.scheduled_tasks,
                gearman_functions: r.gearman_functions,
                gearman_configurable: r.gearman_configurable,
                gearman_fixed_address: r.gearman_fixed_address,
                verifier_files: r.verifier_files,
                api_calls_verify_tls: r.api_calls_verify_tls,
                verifier_verifies_tls: r.verifier_verifies_tls,
                monitors_carry_worker: r.monitors_carry_worker,
                supervisor_sample_broken: r.supervisor_sample_broken,
            });
        }
        eras.sort_by(|a, b| a.from.cmp(&b.from));
        for pair in eras.windows(2) {
            if pair[0].until != pair[1].from {
                return Err(format!(
                    "eras {} and {} leave a gap or overlap ({} / {})",
                    pair[0].id, pair[1].id, pair[0].until, pair[1].from
                ));
            }
        }
        for e in &eras {
            for k in &e.nonempty_keys {
                if !e.required_keys.contains(k) {
                    return Err(format!("era {}: nonempty key {k} is not a required key", e.id));
                }
            }
            for k in &e.numeric_keys {
                if !e.knows_key(k) {
                    return Err(format!("era {}: numeric key {k} is not a key of the era", e.id));
                }
                if !raw.numeric_default.contains_key(k) {
                    return Err(format!("era {}: numeric key {k} has no numeric_default", e.id));
                }
            }
            if !e.gearman_configurable && e.gearman_fixed_address.is_none() {
                return Err(format!("era {}: gearman not configurable but no gearman_fixed_address", e.id));
            }
        }
        let mut compatibility = Vec::new();
        for c in raw.compatibility {
            let module = range(&c.module, "compatibility")?;
            let sei = c.sei.iter().map(|s| range(s, &c.module)).collect::<Result<Vec<_>, _>>()?;
            compatibility.push((module, sei));
        }
        let removed_scripts = raw
            .removed_script
            .into_iter()
            .map(|r| Ok(RemovedScript { removed_in: version(&r.removed_in, &r.script)?, script: r.script }))
            .collect::<Result<Vec<_>, String>>()?;
        let php_requirements = raw
            .php_requirement
            .into_iter()
            .map(|r| {
                if !matches!(r.sapi.as_str(), "cli" | "web") {
                    return Err(format!("php_requirement {}: sapi must be cli or web", r.module));
                }
                Ok(PhpRequirement {
                    module: range(&r.module, "php_requirement")?,
                    sapi: r.sapi,
                    functions: r.functions,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let discontinued_apis = raw
            .discontinued_api
            .into_iter()
            .map(|d| Discontinued { api: d.api, version: d.version, since: d.since })
            .collect();
        let retired_hosts = raw.retired_host.into_iter().map(|h| h.suffix.to_ascii_lowercase()).collect();
        Ok(Eras {
            eras,
            compatibility,
            removed_scripts,
            numeric_default: raw.numeric_default,
            discontinued_apis,
            retired_hosts,
            php_requirements,
        })
    }

    /// The value the module uses when the numeric `key` is absent or not a number.
    pub fn numeric_default(&self, key: &str) -> Option<i64> {
        self.numeric_default.get(key).copied()
    }

    /// Whether the agency switched off this API version, and since when.
    pub fn discontinued(&self, api: Api, version: &str) -> Option<&Discontinued> {
        self.discontinued_apis.iter().find(|d| d.api == api && d.version.eq_ignore_ascii_case(version))
    }

    /// The retired suffix `host` ends with, if any.
    pub fn retired_host(&self, host: &str) -> Option<&str> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.retired_hosts.iter().map(String::as_str).find(|s| host.ends_with(*s) || host == s.trim_start_matches('.'))
    }

    /// What PHP must offer a module version's workers or pages.
    pub fn php_requirements_of<'a>(&'a self, module: &'a Version) -> impl Iterator<Item = &'a PhpRequirement> + 'a {
        self.php_requirements.iter().filter(move |r| r.module.contains(module))
    }

    /// The era of an installed module version; `None` outside the table (a future major).
    pub fn of(&self, v: &Version) -> Option<&Era> {
        self.eras.iter().find(|e| e.contains(v))
    }

    /// The SEI versions a module version accepts; `None` when the table does not say.
    pub fn sei_compatible(&self, module: &Version) -> Option<&[VersionRange]> {
        self.compatibility.iter().find(|(m, _)| m.contains(module)).map(|(_, sei)| sei.as_slice())
    }

    /// The version that removed a script (matched by file name), if one did.
    pub fn removed(&self, script_file_name: &str) -> Option<&RemovedScript> {
        self.removed_scripts.iter().find(|r| r.script.rsplit('/').next() == Some(script_file_name))
    }
}

/// The table compiled in from `checks/eras.toml`, parsed once.
pub fn table() -> &'static Eras {
    static TABLE: OnceLock<Eras> = OnceLock::new();
    TABLE.get_or_init(|| {
        Eras::parse(include_str!("../checks/eras.toml")).unwrap_or_else(|e| panic!("checks/eras.toml: {e} (tested)"))
    })
}

/// The era of a version given as text.
pub fn era_of(version: &str) -> Option<&'static Era> {
    table().of(&Version::parse(version)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn the_table_is_valid_and_covers_every_release() {
        let t = Eras::parse(include_str!("../checks/eras.toml")).unwrap();
        assert_eq!(t.eras.first().unwrap().from, v("1.0.0"));
        assert_eq!(t.eras.last().unwrap().until, v("5.0.0"));
        for version in [
            "1.0.0",
            "1.5.4",
            "2.0.0",
            "2.0.1",
            "3.0.9",
            "3.1.0",
            "3.2.1",
            "3.2.2",
            "3.6.2",
            "3.7.0",
            "3.8.3",
            "4.0.3",
            "4.1.0",
            "4.2.0-beta",
        ] {
            assert!(t.of(&v(version)).is_some(), "{version} has no era");
        }
        assert!(t.of(&v("0.9")).is_none());
        assert!(t.of(&v("5.0.0")).is_none());
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(v("3.10.0") > v("3.9.2"));
        assert!(v("4.0.12.15") > v("4.0.3"));
        assert_eq!(v("4.0"), v("4.0.0"));
        assert_eq!(v("v4.2.0-beta"), v("4.2.0"));
        assert_eq!(Version::parse("x"), None);
    }

    #[test]
    fn eras_say_what_the_module_really_does() {
        let t = table();
        let e = t.of(&v("1.5.4")).unwrap();
        assert_eq!(e.config_source, ConfigSource::Database);
        assert!(!e.gearman_configurable);
        let e = t.of(&v("3.0.2")).unwrap();
        assert_eq!((e.api, e.api_versions.as_slice()), (Api::Soap, &["v2".to_string()][..]));
        let e = t.of(&v("3.7.1")).unwrap();
        assert_eq!(e.api, Api::Soap);
        assert_eq!(e.monitors.len(), 2);
        assert!(e.supervisor_sample_broken);
        let e = t.of(&v("4.0.3")).unwrap();
        assert_eq!(
            (e.api, e.api_calls_verify_tls, e.verifier_verifies_tls),
            (Api::Rest, TlsVerification::Always, TlsVerification::Producao)
        );
        assert!(e.knows_key("WebServicePendencias") && !e.required_keys.contains(&"WebServicePendencias".to_string()));
        assert!(e.nonempty_keys.contains(&"SenhaCertificado".to_string()));
        assert_eq!(t.of(&v("3.2.1")).unwrap().verifier_verifies_tls, TlsVerification::Never);
        assert_eq!(t.of(&v("3.2.2")).unwrap().verifier_verifies_tls, TlsVerification::Producao);
        assert_eq!(t.of(&v("4.2.0-beta")).unwrap().api_versions, vec!["v4".to_string()]);
        assert!(t.of(&v("3.6.0")).unwrap().required_keys.contains(&"EnviarApenasComponentesDigitaisPendentes".into()));
        assert!(!t.of(&v("3.5.0")).unwrap().required_keys.contains(&"EnviarApenasComponentesDigitaisPendentes".into()));
    }

    #[test]
    fn sei_compatibility_only_where_the_module_states_it() {
        let t = table();
        let ok = |m: &str, s: &str| t.sei_compatible(&v(m)).map(|rs| rs.iter().any(|r| r.contains(&v(s))));
        assert_eq!(ok("4.0.3", "5.0.4"), Some(true));
        assert_eq!(ok("4.0.3", "5.1.0"), Some(false));
        assert_eq!(ok("4.1.0", "5.1.0"), Some(true));
        assert_eq!(ok("3.8.3", "4.0.12.15"), Some(true));
        assert_eq!(ok("3.8.3", "5.0.0"), Some(false));
        assert_eq!(ok("1.5.4", "3.1.5"), Some(true));
        assert_eq!(ok("3.5.0", "4.0.0"), None, "no statement, no judgement");
    }

    #[test]
    fn removed_scripts_name_the_version() {
        let r = table().removed("MonitoramentoTarefasPEN.php").unwrap();
        assert_eq!(r.removed_in, v("3.7.0"));
        assert!(table().removed("ProcessamentoTarefasPEN.php").is_none());
    }

    #[test]
    fn what_every_era_refuses_and_what_the_agency_switched_off() {
        let t = table();
        for e in &t.eras {
            assert!(
                e.nonempty_keys.contains(&"SenhaCertificado".to_string()),
                "{}: an empty password stops every era",
                e.id
            );
        }
        let one = t.of(&v("1.5.4")).unwrap();
        assert!(one.required_keys.contains(&"WebServicePendencias".to_string()));
        assert_eq!(one.gearman_fixed_address.as_deref(), Some("localhost:4730"));
        assert!(!t.of(&v("4.0.3")).unwrap().required_keys.contains(&"WebServicePendencias".to_string()));
        assert_eq!(t.numeric_default("NumeroTentativasErro"), Some(3));
        assert_eq!(t.discontinued(Api::Soap, "V2").map(|d| d.since.as_str()), Some("2024-01-02"));
        assert!(t.discontinued(Api::Soap, "v3").is_none() && t.discontinued(Api::Rest, "v2").is_none());
        assert_eq!(t.retired_host("pen-api.trafficmanager.net."), Some(".trafficmanager.net"));
        assert_eq!(t.retired_host("api.conectagov.processoeletronico.gov.br"), None);
        let disabled: Vec<String> = vec!["exec".into(), "PCNTL_FORK".into(), "pcntl_signal".into()];
        let pcntl = |m: &str| {
            let module = v(m);
            t.php_requirements_of(&module)
                .flat_map(|r| r.needed_among(&disabled))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(pcntl("2.0.1"), ["PCNTL_FORK", "pcntl_signal"]);
        assert!(pcntl("2.1.0").is_empty() && pcntl("4.0.3").is_empty());
    }

    #[test]
    fn a_broken_table_is_refused() {
        let base = include_str!("../checks/eras.toml");
        let gap = base.replacen("until = \"3.1.0\"", "until = \"3.0.9\"", 1);
        assert!(Eras::parse(&gap).unwrap_err().contains("gap or overlap"));
        assert!(Eras::parse(&base.replacen("api = \"soap\"", "api = \"grpc\"", 1)).is_err());
        let no_address = base.replacen("gearman_fixed_address = \"localhost:4730\"\n", "", 1);
        assert!(Eras::parse(&no_address).unwrap_err().contains("gearman_fixed_address"));
        let no_default = base.replacen("NumeroTentativasErro = 3\n", "", 1);
        assert!(Eras::parse(&no_default).unwrap_err().contains("numeric_default"));
    }
}
