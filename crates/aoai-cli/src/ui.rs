//! Everything the user sees besides a command's data: colour, the spinner, `error:`/`fix:` lines.
//!
//! Colour goes through `anstream`, which strips ANSI codes when they are not wanted: `--color
//! never`, or `--color auto` (the default) with `NO_COLOR` set, or a stream that is not a
//! terminal (unless `CLICOLOR_FORCE` is set). Data (answers, JSON, tokens) goes to stdout;
//! diagnostics, the spinner and logs go to stderr.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use owo_colors::OwoColorize;

use crate::cli::ColorWhen;

/// Applies `--color` to every stream printed through `anstream`.
pub fn init_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Whether stderr gets colour (for writers that do not go through `anstream`).
pub fn stderr_colored() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// `error: <message>` on stderr.
pub fn error(message: &str) {
    anstream::eprintln!("{} {message}", "error:".red().bold());
}

/// `fix: <quick fix>` on stderr.
pub fn fix(message: &str) {
    anstream::eprintln!("{} {message}", "fix:".green().bold());
}

/// A line on stderr (a note, a report), coloured dim.
pub fn note(message: &str) {
    anstream::eprintln!("{}", message.dimmed());
}

/// A spinner on stderr while waiting; drawn only when stderr is a terminal. Cleared on drop.
pub struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// Starts spinning with `message` (does nothing when stderr is not a terminal).
    pub fn start(message: impl Into<String>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let template = if stderr_colored() {
            "{spinner:.cyan} {msg:.dim}"
        } else {
            "{spinner} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(80));
        Spinner(Some(bar))
    }

    /// A spinner that never draws (when output must stay clean, e.g. `--json`).
    pub fn none() -> Self {
        Spinner(None)
    }

    /// Removes the spinner (before printing a result to a terminal).
    pub fn stop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How long ago / until, for humans: `in 59 min`, `3 s ago`.
pub fn relative(seconds: i64) -> String {
    let (abs, future) = (seconds.unsigned_abs(), seconds >= 0);
    let text = if abs < 90 {
        format!("{abs} s")
    } else if abs < 90 * 60 {
        format!("{} min", (abs + 30) / 60)
    } else if abs < 48 * 3600 {
        let h = abs / 3600;
        let m = (abs % 3600 + 30) / 60;
        if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        }
    } else {
        format!("{} days", abs / 86400)
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::relative;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(5), "in 5 s");
        assert_eq!(relative(-5), "5 s ago");
        assert_eq!(relative(3599), "in 60 min");
        assert_eq!(relative(4000), "in 67 min");
        assert_eq!(relative(3 * 3600), "in 3 h");
        assert_eq!(relative(3 * 3600 + 600), "in 3 h 10 min");
        assert_eq!(relative(-3 * 86400), "3 days ago");
    }
}
