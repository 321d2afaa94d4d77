//! The output formats a report can be rendered in (the command line's `--format`, as a domain
//! type the settings and the renderers share).

/// An output format of a report.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
    Junit,
    Nagios,
    Prometheus,
}
