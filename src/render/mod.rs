//! Renderers: one output format per file behind the small `Render` trait. They only format the
//! report they are given; they never probe.

pub mod human;
pub mod json;
pub mod markdown;

use crate::cli::FormatArg;
use crate::kb::Lang;
use crate::report::model::Report;

/// Turns a report into the bytes of one format.
pub trait Render {
    fn render(&self, report: &Report) -> Vec<u8>;
}

/// The renderer for a format.
pub fn renderer(format: FormatArg, color: bool) -> Box<dyn Render> {
    match format {
        FormatArg::Json => Box::new(json::Json),
        FormatArg::Markdown => Box::new(markdown::Markdown),
        _ => Box::new(human::Human { color }),
    }
}

/// A word of the renderers' own vocabulary in the report's language.
pub(crate) fn word(lang: Lang, pt: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Pt => pt,
        Lang::En => en,
    }
}
