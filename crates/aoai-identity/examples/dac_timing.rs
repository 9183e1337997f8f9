//! Time to first token of `DefaultAzureCredential` in the current environment.
//!
//! ```text
//! cargo run -p aoai-identity --example dac_timing -- [--imds http://127.0.0.1:PORT] [--scope S]
//! ```
//!
//! `--imds` points the IMDS probe at a test address (e.g. a listener that never answers); the
//! `AZURE_POD_IDENTITY_AUTHORITY_HOST` variable does the same.
//! Prints `time_to_first_token_ms=<n>` and the chain report.

use std::time::Instant;

use aoai_identity::{DefaultAzureCredential, DefaultAzureCredentialOptions};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut options = DefaultAzureCredentialOptions::default();
    let mut scope = "https://cognitiveservices.azure.com/.default".to_string();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--imds" => options.imds_endpoint = args.next(),
            "--scope" => scope = args.next().unwrap_or(scope),
            other => {
                eprintln!(
                    "unknown argument {other}; usage: dac_timing [--imds URL] [--scope SCOPE]"
                );
                std::process::exit(2);
            }
        }
    }
    let start = Instant::now();
    let dac = match DefaultAzureCredential::with_options(options) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(1);
        }
    };
    let result = dac.get_token_detailed(&[scope.as_str()], None).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(_) => {
            println!("time_to_first_token_ms={ms:.1}");
            if let Some(r) = dac.last_report() {
                println!("{r}");
            }
        }
        Err(e) => {
            println!("time_to_error_ms={ms:.1}");
            println!("{e:#}");
            std::process::exit(1);
        }
    }
}
