//! `aoai demo` on a machine with nothing configured.

use std::time::{Duration, Instant};

use crate::snap;
use crate::support::{Run, Sandbox};

#[test]
#[ignore = "needs the emulator's Entra token endpoint for seed 2 (issue 2's Entra side has not landed)"]
fn runs_the_quick_start_end_to_end_fast() {
    let sb = Sandbox::new();
    let t0 = Instant::now();
    let r = Run::of(sb.aoai().arg("demo"));
    let took = t0.elapsed();
    assert_eq!(r.code, 0, "{}", r.transcript());
    for words in [
        "seed 1",
        "seed 2",
        "config_error",
        "AZURE_OPENAI_ENDPOINT",
        "EnvironmentCredential",
        "streamed",
        "all checks passed",
    ] {
        assert!(r.stdout.contains(words), "missing {words:?}:\n{}", r.stdout);
    }
    assert!(took < Duration::from_secs(5), "demo took {took:?}");
    snap!("demo", r.transcript());
}

/// Until the Entra side lands: everything but seed 2 runs, and the failure shows in the exit code.
#[test]
fn runs_every_step_and_reports_a_failing_one() {
    let sb = Sandbox::new();
    let r = Run::of(sb.aoai().arg("demo"));
    for words in [
        "[1/5] seed 1",
        "Echo: Say hello",
        "[2/5]",
        "config_error",
        "AZURE_OPENAI_ENDPOINT",
        "[4/5]",
        "[5/5]",
        "all checks passed",
    ] {
        assert!(
            r.stdout.contains(words),
            "missing {words:?}:\n{}",
            r.transcript()
        );
    }
    if r.code != 0 {
        assert_eq!(r.code, 1, "{}", r.transcript());
        assert!(r.stderr.contains("error: "), "{}", r.transcript());
    }
}
