//! `aoai demo` on a machine with nothing configured.

use std::time::{Duration, Instant};

use crate::snap;
use crate::support::{Run, Sandbox};

#[test]
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
