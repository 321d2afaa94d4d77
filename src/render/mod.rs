//! Renderers: one output format per file behind the small `Render` trait. They only format the
//! report they are given; they never probe. This file is the registry (which renderer a format
//! gets); the trait is [`contract`], the renderers' shared vocabulary [`words`] and what they
//! read out of a check's evidence [`evidence`].

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

use crate::cli::FormatArg;

/// The renderer for a format.
pub fn renderer(format: FormatArg, color: bool) -> Box<dyn Render> {
    renderer_for(format, color, false)
}

/// The renderer of a run: its format, colour, `--strict` and `--nagios-max-output`.
pub fn for_run(settings: &crate::settings::Settings) -> Box<dyn Render> {
    match settings.format {
        FormatArg::Nagios => {
            Box::new(nagios::Nagios { strict: settings.strict, max_output: settings.nagios_max_output })
        }
        format => renderer_for(format, settings.color, settings.strict),
    }
}

/// The renderer for a format; `strict` (`--strict`) makes a warning critical for nagios.
pub fn renderer_for(format: FormatArg, color: bool, strict: bool) -> Box<dyn Render> {
    match format {
        FormatArg::Json => Box::new(json::Json),
        FormatArg::Markdown => Box::new(markdown::Markdown),
        FormatArg::Junit => Box::new(junit::Junit),
        FormatArg::Nagios => Box::new(nagios::Nagios { strict, max_output: nagios::NRPE_MAX_OUTPUT }),
        FormatArg::Prometheus => Box::new(prometheus::Prometheus),
        FormatArg::Human => Box::new(human::Human { color }),
    }
}
