//! Reachability of the endpoint: DNS, TCP, TLS — each its own check, so the first failing layer
//! is named.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use url::Url;

use super::Check;

const DNS_TIMEOUT: Duration = Duration::from_secs(5);
const TCP_TIMEOUT: Duration = Duration::from_secs(3);
const TLS_TIMEOUT: Duration = Duration::from_secs(8);

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// Host and port of an endpoint URL.
pub fn host_port(url: &Url) -> Option<(String, u16)> {
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    Some((host.to_string(), url.port_or_known_default()?))
}

/// Resolves the endpoint's host name.
pub async fn dns(url: &Url) -> (Check, Vec<SocketAddr>) {
    let Some((host, port)) = host_port(url) else {
        return (
            Check::fail(
                "dns",
                "network_error",
                "the endpoint has no host",
                "set AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com",
            ),
            Vec::new(),
        );
    };
    let t0 = Instant::now();
    match tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((host.as_str(), port))).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                return (dns_failed(&host, "no addresses"), addrs);
            }
            let shown: Vec<String> = addrs.iter().take(3).map(|a| a.ip().to_string()).collect();
            (
                Check::pass(
                    "dns",
                    format!(
                        "{host} resolves to {} ({})",
                        shown.join(", "),
                        ms(t0.elapsed())
                    ),
                ),
                addrs,
            )
        }
        Ok(Err(e)) => (dns_failed(&host, &e.to_string()), Vec::new()),
        Err(_) => (
            Check::fail(
                "dns",
                "timeout",
                format!(
                    "resolving {host} took more than {} s",
                    DNS_TIMEOUT.as_secs()
                ),
                "check your DNS resolver / VPN (`nslookup <host>`)",
            ),
            Vec::new(),
        ),
    }
}

fn dns_failed(host: &str, why: &str) -> Check {
    Check::fail(
        "dns",
        "network_error",
        format!("{host} does not resolve: {why}"),
        format!(
            "check the resource name in AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com; \
             `nslookup {host}`); a private endpoint also needs your VPN or private DNS zone"
        ),
    )
}

/// Opens a TCP connection to the first address that accepts one.
pub async fn tcp(url: &Url, addrs: &[SocketAddr]) -> Check {
    let t0 = Instant::now();
    let mut last = String::from("no address to try");
    let mut timed_out = false;
    for addr in addrs {
        match tokio::time::timeout(TCP_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_stream)) => {
                return Check::pass("tcp", format!("connected to {addr} ({})", ms(t0.elapsed())));
            }
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => {
                timed_out = true;
                last = format!("{addr}: no answer within {} s", TCP_TIMEOUT.as_secs());
            }
        }
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let fix = if url.host_str().is_some_and(is_loopback) {
        "nothing listens there: start the server (e.g. `aoai emulator`) or fix the port in \
         AZURE_OPENAI_ENDPOINT"
            .to_string()
    } else {
        format!(
            "a firewall, proxy or the resource's network rules block port {port}: allow your \
             address under Networking on the resource, or connect through its private endpoint"
        )
    };
    Check::fail(
        "tcp",
        if timed_out {
            "timeout"
        } else {
            "network_error"
        },
        format!("cannot connect: {last}"),
        fix,
    )
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

/// A TLS handshake (through reqwest's rustls, the stack the client uses), for `https` endpoints.
pub async fn tls(url: &Url) -> Check {
    if url.scheme() != "https" {
        return Check::skip("tls", format!("{} endpoint: no TLS to check", url.scheme()));
    }
    let client = match reqwest::Client::builder()
        .connect_timeout(TLS_TIMEOUT)
        .timeout(TLS_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            return Check::fail(
                "tls",
                "network_error",
                format!("cannot set up TLS: {e}"),
                "report this as a bug of aoai",
            );
        }
    };
    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    let t0 = Instant::now();
    match client.get(origin.as_str()).send().await {
        Ok(resp) => Check::pass(
            "tls",
            format!(
                "TLS handshake ok, the server answers HTTP ({}, {})",
                resp.status().as_u16(),
                ms(t0.elapsed())
            ),
        ),
        Err(e) => {
            let chain = error_chain(&e);
            let kind = if e.is_timeout() {
                "timeout"
            } else {
                "network_error"
            };
            let fix = if chain.contains("certificate") || chain.contains("UnknownIssuer") {
                "the certificate is not trusted: a proxy or firewall may intercept TLS; add its CA \
                 to the system trust store"
            } else {
                "check that nothing between you and the endpoint (proxy, firewall) breaks TLS \
                 (HTTPS_PROXY, NO_PROXY)"
            };
            Check::fail("tls", kind, format!("TLS handshake failed: {chain}"), fix)
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_come_from_the_url() {
        let u = Url::parse("https://r.openai.azure.com/").unwrap();
        assert_eq!(host_port(&u), Some(("r.openai.azure.com".into(), 443)));
        let u = Url::parse("http://[::1]:8089").unwrap();
        assert_eq!(host_port(&u), Some(("::1".into(), 8089)));
        assert!(is_loopback("127.0.0.1") && is_loopback("[::1]") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("r.openai.azure.com"));
    }

    #[tokio::test]
    async fn a_closed_loopback_port_fails_tcp_and_names_the_emulator() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let url = Url::parse(&format!("http://{addr}")).unwrap();
        let (dns, addrs) = dns(&url).await;
        assert_eq!(dns.status, super::super::Status::Pass);
        let c = tcp(&url, &addrs).await;
        assert_eq!(c.status, super::super::Status::Fail);
        assert_eq!(c.kind.as_deref(), Some("network_error"));
        assert!(c.fix.unwrap().contains("aoai emulator"));
        assert_eq!(tls(&url).await.status, super::super::Status::Skip);
    }
}
