//! The `WebService` address as mod-sei-pen uses it: which API family and version its path names
//! (`…/interoperabilidade/soap/v3/`, `…/rest/v3/`), what the module requests from it in each era,
//! and what is wrong with it for the installed version.
//!
//! The requests are built the way the module builds them. SOAP (≤ 3.7): the WSDL is
//! `WebService . '?wsdl'`. REST (3.8+): the availability check is `WebService . 'healthcheck'`
//! (a string concatenation, so without the final `/` the module asks for `…/v3healthcheck`), and
//! every API call is a path relative to Guzzle's `base_uri`, resolved by RFC 3986 reference
//! resolution (without the final `/`, `tramites/pendentes` replaces `v3` and becomes
//! `…/rest/tramites/pendentes`); a `false` query parameter is sent as `0`.

use crate::eras::{self, Api, Era};
use crate::model::code;
use crate::model::Finding;
use url::Url;

/// The API family and version a `WebService` path names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub api: Option<Api>,
    /// `v3`…, when the segment after `soap`/`rest` is one.
    pub version: Option<String>,
}

impl Shape {
    /// `rest/v3`, `soap`, or `None` when the path names neither family.
    pub fn text(&self) -> Option<String> {
        let api = self.api?.as_str();
        Some(match &self.version {
            Some(v) => format!("{api}/{v}"),
            None => api.to_string(),
        })
    }
}

/// Reads the API family and version from a URL's path: the last `soap` or `rest` segment and
/// the `vN` after it.
pub fn shape(url: &Url) -> Shape {
    let segments: Vec<String> =
        url.path_segments().map(|s| s.map(str::to_ascii_lowercase).collect()).unwrap_or_default();
    let Some(i) = segments.iter().rposition(|s| s == "soap" || s == "rest") else { return Shape::default() };
    let api = if segments[i] == "soap" { Api::Soap } else { Api::Rest };
    let version = segments
        .get(i + 1)
        .filter(|v| v.len() > 1 && v.starts_with('v') && v[1..].chars().all(|c| c.is_ascii_digit()))
        .cloned();
    Shape { api: Some(api), version }
}

/// What the module asks of the `WebService`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requests {
    Soap { wsdl: String },
    Rest { healthcheck: String, pendentes: String },
}

/// The requests a module speaking `api` makes to `web_service` (as configured, not normalised).
pub fn module_requests(web_service: &str, api: Api) -> Option<Requests> {
    let base = Url::parse(web_service).ok()?;
    match api {
        Api::Soap => Some(Requests::Soap { wsdl: format!("{web_service}?wsdl") }),
        Api::Rest => {
            let healthcheck = format!("{web_service}healthcheck");
            let pendentes = base.join("tramites/pendentes?todas=0").ok()?.to_string();
            Some(Requests::Rest { healthcheck, pendentes })
        }
    }
}

/// The API a module talks: its era's, else (version unknown) the one the address names.
pub fn api_of(web_service: &str, era: Option<&Era>) -> Option<Api> {
    era.map(|e| e.api).or_else(|| Url::parse(web_service).ok().and_then(|u| shape(&u).api))
}

/// What is wrong with `web_service` for a module of `era` (`version`): a discontinued API or
/// retired host, another API family or version than the module speaks, a REST address without
/// its final `/`. An era that is not known judges only what holds for every module.
pub fn judge(web_service: &str, era: Option<&Era>, version: Option<&str>, path: &str) -> Vec<Finding> {
    let Ok(url) = Url::parse(web_service) else { return Vec::new() };
    let table = eras::table();
    let found = shape(&url);
    let mut out = Vec::new();
    let host = url.host_str().unwrap_or("");
    if let Some(suffix) = table.retired_host(host) {
        out.push(
            Finding::new(code::PEN_WEBSERVICE_DISCONTINUED)
                .with("path", path)
                .with("url", web_service)
                .with("what", format!("*{suffix}"))
                .with("since", "-"),
        );
    } else if let (Some(api), Some(v)) = (found.api, found.version.as_deref()) {
        if let Some(d) = table.discontinued(api, v) {
            out.push(
                Finding::new(code::PEN_WEBSERVICE_DISCONTINUED)
                    .with("path", path)
                    .with("url", web_service)
                    .with("what", format!("{}/{}", api.as_str(), d.version))
                    .with("since", &d.since),
            );
        }
    }
    if let (Some(era), Some(api)) = (era, found.api) {
        let version_ok =
            found.version.as_ref().is_none_or(|v| era.api_versions.iter().any(|a| a.eq_ignore_ascii_case(v)));
        if api != era.api || !version_ok {
            let expected = match era.api_versions.as_slice() {
                [one] => format!("{}/{one}", era.api.as_str()),
                many => format!("{}/{}", era.api.as_str(), many.join("|")),
            };
            out.push(
                Finding::new(code::PEN_WEBSERVICE_API_MISMATCH)
                    .with("path", path)
                    .with("url", web_service)
                    .with("found", found.text().unwrap_or_default())
                    .with("expected", expected)
                    .with("version", version.unwrap_or("-")),
            );
        }
    }
    let rest = era.map(|e| e.api == Api::Rest).unwrap_or(found.api == Some(Api::Rest));
    if rest && !url.path().ends_with('/') && url.query().is_none() {
        if let Some(Requests::Rest { healthcheck, pendentes }) = module_requests(web_service, Api::Rest) {
            out.push(
                Finding::new(code::PEN_WEBSERVICE_NO_TRAILING_SLASH)
                    .with("path", path)
                    .with("url", web_service)
                    .with("healthcheck", healthcheck)
                    .with("pendentes", pendentes),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(u: &str) -> Option<String> {
        shape(&Url::parse(u).unwrap()).text()
    }

    #[test]
    fn shapes() {
        assert_eq!(s("https://h/interoperabilidade/soap/v3/").as_deref(), Some("soap/v3"));
        assert_eq!(s("https://h/interoperabilidade/rest/v3").as_deref(), Some("rest/v3"));
        assert_eq!(s("https://h/interoperabilidade/REST/v4/").as_deref(), Some("rest/v4"));
        assert_eq!(s("https://h/interoperabilidade/soap/").as_deref(), Some("soap"));
        assert_eq!(s("https://h/api/"), None);
    }

    #[test]
    fn what_the_module_requests() {
        let rest = |ws: &str| module_requests(ws, Api::Rest).unwrap();
        assert_eq!(
            rest("https://h/interoperabilidade/rest/v3/"),
            Requests::Rest {
                healthcheck: "https://h/interoperabilidade/rest/v3/healthcheck".into(),
                pendentes: "https://h/interoperabilidade/rest/v3/tramites/pendentes?todas=0".into()
            }
        );
        // Without the final `/`: the concatenated healthcheck loses its separator, the resolved
        // API path loses `v3`.
        assert_eq!(
            rest("https://h/interoperabilidade/rest/v3"),
            Requests::Rest {
                healthcheck: "https://h/interoperabilidade/rest/v3healthcheck".into(),
                pendentes: "https://h/interoperabilidade/rest/tramites/pendentes?todas=0".into()
            }
        );
        assert_eq!(
            module_requests("https://h/interoperabilidade/soap/v3/", Api::Soap),
            Some(Requests::Soap { wsdl: "https://h/interoperabilidade/soap/v3/?wsdl".into() })
        );
        assert_eq!(module_requests("not a url", Api::Rest), None);
    }

    fn codes(ws: &str, version: Option<&str>) -> Vec<(&'static str, String)> {
        let era = version.and_then(eras::era_of);
        judge(ws, era, version, "/c.php")
            .into_iter()
            .map(|f| {
                let detail =
                    ["found", "what", "healthcheck"].iter().find_map(|k| f.params.get(*k).cloned()).unwrap_or_default();
                (f.code.as_str(), detail)
            })
            .collect()
    }

    #[test]
    fn judged_against_the_era() {
        let ok_rest = "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/rest/v3/";
        let soap = "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/soap/v3/";
        assert!(codes(ok_rest, Some("4.0.3")).is_empty());
        assert!(codes(soap, Some("3.7.1")).is_empty());
        assert!(codes(soap, None).is_empty());
        // The 4.x manual's SOAP address on a 4.x module.
        assert_eq!(codes(soap, Some("4.0.3")), [("PEN_WEBSERVICE_API_MISMATCH", "soap/v3".to_string())]);
        // REST on a SOAP module, v3 on the 4.2 module that speaks v4.
        assert_eq!(codes(ok_rest, Some("3.6.2")), [("PEN_WEBSERVICE_API_MISMATCH", "rest/v3".to_string())]);
        assert_eq!(codes(ok_rest, Some("4.2.0-beta")), [("PEN_WEBSERVICE_API_MISMATCH", "rest/v3".to_string())]);
        // soap/v2: off since 2024-01-02, whatever the module.
        let v2 = "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/soap/v2/";
        assert_eq!(codes(v2, Some("2.1.0")), [("PEN_WEBSERVICE_DISCONTINUED", "soap/v2".to_string())]);
        assert_eq!(
            codes(v2, Some("3.5.0")),
            [
                ("PEN_WEBSERVICE_DISCONTINUED", "soap/v2".to_string()),
                ("PEN_WEBSERVICE_API_MISMATCH", "soap/v2".to_string())
            ]
        );
        assert_eq!(
            codes("https://pen-api.trafficmanager.net/interoperabilidade/soap/v3/", None),
            [("PEN_WEBSERVICE_DISCONTINUED", "*.trafficmanager.net".to_string())]
        );
        // REST without the final `/`: in the REST era, or when the address says REST.
        let no_slash = "https://api.conectagov.processoeletronico.gov.br/interoperabilidade/rest/v3";
        let f = codes(no_slash, Some("4.0.3"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "PEN_WEBSERVICE_NO_TRAILING_SLASH");
        assert!(f[0].1.ends_with("/rest/v3healthcheck"), "{f:?}");
        assert_eq!(codes(no_slash, None).len(), 1);
        assert!(codes("https://api.conectagov.processoeletronico.gov.br/interoperabilidade/soap/v3", Some("3.7.0"))
            .is_empty());
        // An address that names no family is judged only by its host.
        assert!(codes("https://proxy.orgao.gov.br/pen/", Some("4.0.3")).is_empty());
    }
}
