//! `aoai chat` against the emulator: streamed, not streamed, JSON, stdin, and its failures.

use crate::snap;
use crate::support::{CLIENT_SECRET, Run, Sandbox, World};

#[test]
fn streams_the_answer_and_ends_with_a_newline() {
    let w = World::new();
    let streamed = Run::of(w.aoai_with_key().args(["chat", "Hello there"]));
    assert_eq!(streamed.code, 0, "{}", streamed.transcript());
    assert!(streamed.stdout.ends_with('\n') && streamed.stdout.trim().len() > 1);
    assert!(
        streamed.stderr.is_empty(),
        "stderr is not a terminal: no spinner, no noise:\n{}",
        streamed.stderr
    );
    // The same text as the non-streamed answer (the emulator is deterministic).
    let whole = Run::of(
        w.aoai_with_key()
            .args(["chat", "--no-stream", "Hello there"]),
    );
    assert_eq!(whole.code, 0, "{}", whole.transcript());
    assert_eq!(whole.stdout, streamed.stdout);
    snap!("chat_streamed", streamed.transcript());
}

#[test]
fn reads_the_message_from_stdin() {
    let w = World::new();
    let piped = Run::of(w.aoai_with_key().arg("chat").write_stdin("Hello there\n"));
    assert_eq!(piped.code, 0, "{}", piped.transcript());
    let dash = Run::of(
        w.aoai_with_key()
            .args(["chat", "-", "--no-stream"])
            .write_stdin("Hello there\n"),
    );
    assert_eq!(dash.code, 0, "{}", dash.transcript());
    let empty = Run::of(w.aoai_with_key().arg("chat").write_stdin("  \n"));
    assert_eq!(empty.code, 2, "{}", empty.transcript());
}

#[test]
fn json_prints_the_full_response_or_one_chunk_per_line() {
    let w = World::new();
    let whole = Run::of(w.aoai_with_key().args([
        "chat",
        "--no-stream",
        "--json",
        "--system",
        "Be brief.",
        "--max-tokens",
        "5",
        "--temperature",
        "0.2",
        "Hi",
    ]));
    assert_eq!(whole.code, 0, "{}", whole.transcript());
    let v = whole.json();
    assert_eq!(v["object"], "chat.completion");
    assert!(v["choices"][0]["message"]["content"].is_string(), "{v}");
    assert!(v["usage"]["total_tokens"].as_u64().unwrap() > 0, "{v}");

    let streamed = Run::of(w.aoai_with_key().args(["chat", "--json", "Hi"]));
    assert_eq!(streamed.code, 0, "{}", streamed.transcript());
    let lines: Vec<serde_json::Value> = streamed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() >= 2, "{}", streamed.stdout);
    assert!(
        lines.iter().all(|c| c["choices"].is_array()),
        "{}",
        streamed.stdout
    );
    let chunks = lines
        .iter()
        .filter(|c| c["object"] == "chat.completion.chunk")
        .count();
    assert!(chunks >= 2, "{}", streamed.stdout);
    let text: String = lines
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Echo: Hi");
    // The journal shows the flags went on the wire.
    let sent = w.last_chat_body();
    assert_eq!(sent["stream"], true);
    let sent_whole = &w.chat_bodies()[0];
    assert_eq!(sent_whole["max_tokens"], 5);
    assert_eq!(sent_whole["messages"][0]["role"], "system");
    assert_eq!(sent_whole["messages"][0]["content"], "Be brief.");
}

#[test]
fn a_deployment_flag_overrides_the_environment() {
    let w = World::new();
    let r = Run::of(
        w.aoai_with_key()
            .args(["chat", "--deployment", "gpt-4o-2024-08-06", "Hi"]),
    );
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stderr.contains("(not_found)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("fix: ") && r.stderr.to_lowercase().contains("deployment"),
        "{}",
        r.stderr
    );
    snap!("chat_wrong_deployment", r.transcript());
}

#[test]
fn configuration_errors_exit_two_and_service_errors_exit_one() {
    let sb = Sandbox::new();
    let r = Run::of(
        sb.aoai()
            .args(["chat", "Hi"])
            .env("AZURE_OPENAI_API_KEY", "emulator-key")
            .env("AZURE_OPENAI_DEPLOYMENT", "gpt-4o"),
    );
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stderr.contains("(config_error)") && r.stderr.contains("AZURE_OPENAI_ENDPOINT"),
        "{}",
        r.stderr
    );
    snap!("chat_endpoint_missing", r.transcript());

    let w = World::new();
    let r = Run::of(
        w.aoai_with_key()
            .args(["chat", "Hi"])
            .env("AZURE_OPENAI_API_KEY", "0123456789abcdef0123456789abcdef"),
    );
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stderr.contains("(authentication_error)"), "{}", r.stderr);
    let r = Run::of(w.aoai_with_key().args(["chat", "--temperature", "7", "Hi"]));
    assert_eq!(r.code, 2, "{}", r.transcript());
}

#[test]
fn verbose_flags_log_to_stderr_without_the_key() {
    let w = World::new();
    let quiet = Run::of(w.aoai_with_key().args(["chat", "Hi"]));
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let r = Run::of(w.aoai_with_key().args(["-vvv", "chat", "Hi"]));
    assert_eq!(r.code, 0, "{}", r.transcript());
    assert!(
        r.stderr.contains("TRACE") || r.stderr.contains("DEBUG"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains(crate::support::KEY),
        "the key never appears in logs"
    );
    assert_eq!(r.stdout, quiet.stdout, "logs never go to stdout");
}

#[test]
fn service_refusals_carry_their_kind_and_fix() {
    let w = World::with(|c| c.rate_limited = true);
    let r = Run::of(w.aoai_with_key().args(["chat", "Hi"]));
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(
        r.stderr.contains("(rate_limit)") && r.stderr.contains("retry after 1 s"),
        "{}",
        r.stderr
    );

    let w = World::new();
    let r = Run::of(
        w.aoai_with_key()
            .args(["chat", "please trigger-content-filter now"]),
    );
    assert_eq!(r.code, 1, "{}", r.transcript());
    assert!(r.stderr.contains("(content_filter)"), "{}", r.stderr);
    snap!("chat_content_filter", r.transcript());
}

#[test]
fn keyless_chat_uses_default_azure_credential_and_reports_its_chain() {
    let w = World::new();
    let ok =
        Run::of(
            w.aoai_with_service_principal(CLIENT_SECRET)
                .args(["chat", "--no-stream", "Hi"]),
        );
    assert_eq!(ok.code, 0, "{}", ok.transcript());
    assert_eq!(ok.stdout, "Echo: Hi\n");
    let token_requests = w
        .journal()
        .iter()
        .filter(|e| {
            e["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/oauth2/v2.0/token"))
        })
        .count();
    assert_eq!(token_requests, 1, "one token for the call");

    let bad = Run::of(
        w.aoai_with_service_principal("not-the-secret")
            .args(["chat", "Hi"]),
    );
    assert_eq!(bad.code, 1, "{}", bad.transcript());
    assert!(
        bad.stderr.contains("(authentication_error)"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("stopped at EnvironmentCredential"),
        "the chain report is shown: {}",
        bad.stderr
    );
    assert!(bad.stderr.contains("fix: ") && bad.stderr.contains("AZURE_CLIENT_SECRET"));
    assert!(
        !bad.stderr.contains("not-the-secret"),
        "no secret in errors"
    );
}
