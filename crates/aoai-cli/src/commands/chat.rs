//! `aoai chat`: one message in, the answer out — streamed token by token unless `--no-stream`.

use std::io::{IsTerminal, Read, Write};

use aoai::RetryPolicy;
use aoai::types::{ChatCompletionRequest, ChatMessage};
use aoai_identity::Env;
use futures::StreamExt;

use crate::cli::ChatArgs;
use crate::failure::Failure;
use crate::settings::Settings;
use crate::ui::Spinner;

/// Runs `aoai chat`.
pub async fn run(args: &ChatArgs, env: &Env) -> Result<(), Failure> {
    let message = message(args.message.as_deref())?;
    if let Some(t) = args.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(Failure::usage(
            format!("--temperature {t} is out of range"),
            "use a temperature between 0 and 2",
        ));
    }
    let settings = Settings::resolve(env, RetryPolicy::default())?;
    if args.deployment.is_none() && settings.deployment().is_none() {
        return Err(Failure::usage(
            "no deployment given",
            "set AZURE_OPENAI_DEPLOYMENT=<deployment name> or pass --deployment <name>",
        ));
    }
    let request = request(args, message);
    let client = settings.client();
    let mut spinner = if args.json {
        Spinner::none()
    } else {
        Spinner::start("waiting for the answer")
    };
    let mut out = std::io::stdout().lock();
    if args.no_stream {
        let answer = client.chat().create(request).await;
        spinner.stop();
        let answer = answer?;
        if args.json {
            write_line(&mut out, &to_json(&answer)?)?;
        } else {
            write_line(&mut out, &answer.text())?;
        }
        return Ok(());
    }
    // On an error the spinner goes when dropped, before the error is printed.
    let mut stream = client.chat().create_stream(request).await?;
    let mut ended_with_newline = true;
    while let Some(item) = stream.next().await {
        spinner.stop();
        let chunk = item?;
        let text = if args.json {
            format!("{}\n", to_json(&chunk)?)
        } else {
            match chunk.delta_text() {
                Some(d) if !d.is_empty() => d.to_string(),
                _ => continue,
            }
        };
        ended_with_newline = text.ends_with('\n');
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => {}
            // The reader went away (`aoai chat ... | head`): stop quietly, like other tools.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(stdout_failed(e)),
        }
    }
    spinner.stop();
    if !ended_with_newline {
        writeln!(out).map_err(stdout_failed)?;
    }
    Ok(())
}

/// The request the flags describe.
fn request(args: &ChatArgs, message: String) -> ChatCompletionRequest {
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(ChatMessage::system(system.clone()));
    }
    messages.push(ChatMessage::user(message));
    let mut request = ChatCompletionRequest::new(messages);
    if let Some(d) = &args.deployment {
        request = request.model(d.clone());
    }
    if let Some(n) = args.max_tokens {
        request = request.max_tokens(n);
    }
    if let Some(t) = args.temperature {
        request = request.temperature(t);
    }
    request
}

/// A typed response or chunk as one line of JSON (unknown fields included: the types keep them).
fn to_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| {
        Failure::new(
            "stream_error",
            format!("cannot write the answer as JSON: {e}"),
        )
    })
}

fn write_line(out: &mut impl Write, text: &str) -> Result<(), Failure> {
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(stdout_failed)
}

fn stdout_failed(e: std::io::Error) -> Failure {
    Failure::new("stream_error", format!("cannot write to stdout: {e}"))
}

/// The message from the argument, or stdin when it is absent or `-`.
fn message(arg: Option<&str>) -> Result<String, Failure> {
    let text = match arg {
        Some(m) if m != "-" => m.to_string(),
        _ => {
            let stdin = std::io::stdin();
            if arg.is_none() && stdin.is_terminal() {
                return Err(Failure::usage(
                    "no message",
                    "give one: aoai chat \"Hello\" (or pipe it: echo Hello | aoai chat)",
                ));
            }
            let mut s = String::new();
            stdin.lock().read_to_string(&mut s).map_err(|e| {
                Failure::usage(format!("cannot read stdin: {e}"), "pipe UTF-8 text")
            })?;
            s
        }
    };
    if text.trim().is_empty() {
        return Err(Failure::usage(
            "the message is empty",
            "give one: aoai chat \"Hello\" (or pipe it: echo Hello | aoai chat)",
        ));
    }
    Ok(text)
}
