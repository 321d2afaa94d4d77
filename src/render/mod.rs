//! Renderers: one output format per file behind the small `Render` trait. They only format the
//! report they are given; they never probe. This file is the registry (which renderer a format
//! gets); the trait is [`contract`], the renderers' shared vocabulary [`words`] and what monitoring
//! reads of a check, its typed measures [`evidence`].

pub mod cert;
pub mod contract;
pub mod evidence;
pub mod human;
pub mod json;
pub mod junit;
pub mod kb_text;
pub mod markdown;
pub mod nagios;
pub mod prometheus;
pub mod words;

pub use contract::Render;

use crate::model::Format;

/// The renderer for a format.
pub fn renderer(format: Format, color: bool) -> Box<dyn Render> {
    renderer_for(format, color, false)
}

/// The renderer of a run: its format, colour, `--strict` and `--nagios-max-output`.
pub fn for_run(settings: &crate::settings::Settings) -> Box<dyn Render> {
    match settings.format {
        Format::Nagios => Box::new(nagios::Nagios { strict: settings.strict, max_output: settings.nagios_max_output }),
        format => renderer_for(format, settings.color, settings.strict),
    }
}

/// The renderer for a format; `strict` (`--strict`) makes a warning critical for nagios.
pub fn renderer_for(format: Format, color: bool, strict: bool) -> Box<dyn Render> {
    match format {
        Format::Json => Box::new(json::Json),
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Junit => Box::new(junit::Junit),
        Format::Nagios => Box::new(nagios::Nagios { strict, max_output: nagios::NRPE_MAX_OUTPUT }),
        Format::Prometheus => Box::new(prometheus::Prometheus),
        Format::Human => Box::new(human::Human { color }),
    }
}
