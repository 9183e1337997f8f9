//! Flags every command shares: --version, --help, usage errors, completions, colour.

use crate::snap;
use crate::support::{Run, Sandbox};

#[test]
fn version_and_help_exit_zero_and_help_documents_exit_codes() {
    let sb = Sandbox::new();
    let v = Run::of(sb.aoai().arg("--version"));
    assert_eq!(v.code, 0, "{}", v.transcript());
    assert_eq!(
        v.stdout.trim(),
        format!("aoai {}", env!("CARGO_PKG_VERSION"))
    );
    let h = Run::of(sb.aoai().arg("--help"));
    assert_eq!(h.code, 0);
    for words in [
        "Exit status:",
        "0  success",
        "1  the service or the credential failed",
        "2  bad usage or configuration",
    ] {
        assert!(
            h.stdout.contains(words),
            "missing {words:?} in:\n{}",
            h.stdout
        );
    }
    snap!("help", h.stdout);
}

#[test]
fn bad_usage_exits_two() {
    let sb = Sandbox::new();
    let r = Run::of(sb.aoai().args(["chat", "--no-such-flag"]));
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(r.stderr.contains("error:"), "{}", r.stderr);
    let r = Run::of(sb.aoai().args(["chat", "--max-tokens", "lots", "hi"]));
    assert_eq!(r.code, 2, "{}", r.transcript());
    let r = Run::of(&mut sb.aoai());
    assert_eq!(r.code, 2, "no subcommand: {}", r.transcript());
}

#[test]
fn completions_print_a_script_for_each_shell() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "_aoai()"),
        ("zsh", "#compdef aoai"),
        ("fish", "complete -c aoai"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = Run::of(sb.aoai().args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {}", r.transcript());
        assert!(r.stdout.contains(marker), "{shell}: no {marker:?}");
        assert!(r.stdout.contains("doctor"), "{shell}: subcommands missing");
    }
}

/// With nothing configured, `aoai token` fails with the chain's report and the quick fix, exit 1.
#[test]
fn token_with_no_credential_anywhere_explains_the_chain() {
    let sb = Sandbox::new();
    let r = Run::of(sb.aoai().arg("token"));
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stdout.is_empty(), "{}", r.transcript());
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(
        r.stderr.contains("(credential_unavailable)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("\nfix: ") && r.stderr.contains("az login"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("AzureCliCredential"),
        "the report is printed: {}",
        r.stderr
    );
    snap!("token_no_credential", r.transcript());
}

fn has_ansi(s: &str) -> bool {
    s.contains('\u{1b}')
}

#[test]
fn colour_honours_no_color_clicolor_force_and_the_flag() {
    let sb = Sandbox::new();
    // stderr is a pipe: no colour by default.
    let plain = Run::of(sb.aoai().arg("token"));
    assert!(!has_ansi(&plain.stderr), "{}", plain.stderr);
    // Forced colour (CLICOLOR_FORCE, or --color always) ...
    let forced = Run::of(sb.aoai().arg("token").env("CLICOLOR_FORCE", "1"));
    assert!(has_ansi(&forced.stderr), "{}", forced.stderr);
    let always = Run::of(sb.aoai().args(["--color", "always", "token"]));
    assert!(has_ansi(&always.stderr), "{}", always.stderr);
    // ... unless NO_COLOR says no, or --color never.
    let no_color = Run::of(
        sb.aoai()
            .arg("token")
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1"),
    );
    assert!(!has_ansi(&no_color.stderr), "{}", no_color.stderr);
    let never = Run::of(
        sb.aoai()
            .args(["token", "--color", "never"])
            .env("CLICOLOR_FORCE", "1"),
    );
    assert!(!has_ansi(&never.stderr), "{}", never.stderr);
    assert_eq!((plain.code, no_color.code, always.code), (1, 1, 1));
}
