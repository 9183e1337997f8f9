//! Secrets never reach logs, `Debug` output or error text.
//!
//! Its own test binary: it installs a global TRACE subscriber, which must not race with other
//! tests' callsites (a thread-scoped subscriber missed events when tests ran in parallel).

#[path = "it/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use aoai::AzureOpenAI;
use aoai_emulator::Fault;
use futures::StreamExt;
use serde_json::json;

use support::{CHAT_PATH, CLIENT_SECRET, KEY, emulator, good_token, hello, sp_env};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn assert_absent(haystack: &str, secrets: &[&str], what: &str) {
    for s in secrets {
        assert!(
            !haystack.contains(s),
            "{what} contains a secret ({} chars)",
            s.len()
        );
    }
}

/// Runs key, token and credential flows (successes, failures and retries) with every TRACE
/// event of every crate captured, then greps the capture for the secrets.
#[tokio::test]
async fn no_secret_appears_in_trace_logs_debug_output_or_errors() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber of this binary");

    let emu = emulator().await;
    let token = good_token(&emu).await;
    let mut texts = Vec::new();

    let keyed = AzureOpenAI::builder()
        .endpoint(emu.url())
        .api_key(KEY)
        .deployment("gpt-4o")
        .build()
        .unwrap();
    emu.push_fault(
        Fault::reply(CHAT_PATH, 500)
            .body(json!({"error":{"message":"boom","type":"server_error"}})),
    );
    keyed.chat().create(hello()).await.unwrap();
    let mut stream = keyed.chat().create_stream(hello()).await.unwrap();
    while stream.next().await.is_some() {}
    texts.push(format!("{keyed:?}"));

    let wrong = AzureOpenAI::builder()
        .endpoint(emu.url())
        .api_key("fedcba9876543210")
        .deployment("gpt-4o")
        .build()
        .unwrap();
    let err = wrong.chat().create(hello()).await.unwrap_err();
    texts.push(format!("{err} {err:?} {:?}", err.quick_fix()));

    let tokened = AzureOpenAI::builder()
        .endpoint(emu.url())
        .ad_token(token.clone())
        .deployment("gpt-4o")
        .build()
        .unwrap();
    tokened.chat().create(hello()).await.unwrap();
    texts.push(format!("{tokened:?}"));

    let entra = AzureOpenAI::builder().env(sp_env(&emu)).build().unwrap();
    entra.chat().create(hello()).await.unwrap();
    texts.push(format!("{entra:?}"));
    let bad_sp = AzureOpenAI::builder()
        .env(sp_env(&emu).with("AZURE_CLIENT_SECRET", "wrong-secret-value"))
        .build()
        .unwrap();
    let err = bad_sp.chat().create(hello()).await.unwrap_err();
    texts.push(format!(
        "{err} {err:?} {:?} {:?}",
        err.quick_fix(),
        err.detail()
    ));

    let builder_debug = format!(
        "{:?}",
        AzureOpenAI::builder().api_key(KEY).ad_token(token.clone())
    );
    texts.push(builder_debug);
    let err = AzureOpenAI::builder()
        .endpoint(emu.url())
        .api_key("sk-secret-openai-key")
        .build()
        .unwrap_err();
    texts.push(format!("{err} {err:?}"));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying"), "TRACE logs were captured");
    let secrets = [
        KEY,
        "fedcba9876543210",
        token.as_str(),
        CLIENT_SECRET,
        "wrong-secret-value",
        "sk-secret-openai-key",
    ];
    assert_absent(&logs, &secrets, "the trace log");
    for t in &texts {
        assert_absent(t, &secrets, "a Debug/Display text");
    }
}
