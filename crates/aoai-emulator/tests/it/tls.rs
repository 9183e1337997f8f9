//! TLS mode: HTTPS with a generated certificate that a client trusting the written CA accepts.

use crate::support::*;

#[tokio::test]
async fn https_with_the_written_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let config = aoai_emulator::EmulatorConfig {
        tls: true,
        ca_out: Some(ca_path.clone()),
        ..Default::default()
    };
    let emu = start_with(config).await;
    assert!(emu.url().starts_with("https://127.0.0.1:"), "{}", emu.url());
    assert_eq!(emu.ca_pem_path(), Some(ca_path.as_path()));
    let pem = std::fs::read_to_string(&ca_path).unwrap();
    assert_eq!(Some(pem.as_str()), emu.ca_pem());
    let ca = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let c = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    for base in [
        emu.url().to_owned(),
        emu.url().replace("127.0.0.1", "localhost"),
    ] {
        let url =
            format!("{base}/openai/deployments/gpt-4o/chat/completions?api-version={API_VERSION}");
        let res = c
            .post(&url)
            .header("api-key", KEY)
            .json(&hello())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{url}");
    }
    // Without the CA the certificate is rejected.
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(plain.get(emu.url()).send().await.is_err());
}

#[tokio::test]
async fn temp_ca_file_is_removed_on_drop() {
    let config = aoai_emulator::EmulatorConfig {
        tls: true,
        ..Default::default()
    };
    let emu = start_with(config).await;
    let path = emu.ca_pem_path().unwrap().to_owned();
    assert!(path.exists());
    drop(emu);
    assert!(!path.exists());
}
