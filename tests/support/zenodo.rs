//! A stand-in for Zenodo's file API over HTTPS, for the page's "download it from Zenodo" path:
//! a browser started with [`FakeZenodo::host_rule`] (and `--ignore-certificate-errors`, for
//! the self-signed test certificate in `fixtures/`, which guards nothing) reaches this server
//! when it fetches `https://zenodo.org/...`. It answers the paths it was given, with or without
//! the CORS header Zenodo's API address sends, 404 otherwise, and records what it was asked.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A file served at a path: its bytes, and whether the answer carries
/// `Access-Control-Allow-Origin: *`.
#[derive(Clone)]
struct File {
    bytes: Arc<Vec<u8>>,
    cors: bool,
}

pub struct FakeZenodo {
    pub port: u16,
    files: Arc<Mutex<HashMap<String, File>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn config() -> Arc<rustls::ServerConfig> {
    let dir = crate::root().join("tests/support/fixtures");
    let cert = CertificateDer::from_pem_file(dir.join("zenodo-test.crt")).expect("the test certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("zenodo-test.key")).expect("the test key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("a valid certificate and key");
    Arc::new(config)
}

impl FakeZenodo {
    pub fn start() -> FakeZenodo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let files: Arc<Mutex<HashMap<String, File>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (config, served, log) = (config(), files.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (config, served, log) = (config.clone(), served.clone(), log.clone());
                // One thread per connection: a stalled client never blocks the next.
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
                    let mut head = Vec::new();
                    loop {
                        let mut line = String::new();
                        match tls.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => head.push(line),
                        }
                    }
                    let mut first = head.first().map(|l| l.split_whitespace()).into_iter().flatten();
                    let (method, path) = (first.next().unwrap_or("").to_string(), first.next().unwrap_or("").to_string());
                    log.lock().unwrap().push(format!("{method} {path}"));
                    let file = served.lock().unwrap().get(path.split('?').next().unwrap_or("")).cloned();
                    let stream = tls.get_mut();
                    let answer = match (&*method, file) {
                        ("GET", Some(f)) => {
                            let cors = if f.cors { "Access-Control-Allow-Origin: *\r\n" } else { "" };
                            let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n{cors}Connection: close\r\n\r\n",
                                f.bytes.len()
                            );
                            stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&f.bytes))
                        }
                        _ => stream.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
                        ),
                    };
                    if answer.is_ok() {
                        let _ = stream.flush();
                        stream.conn.send_close_notify();
                        let _ = stream.flush();
                    }
                });
            }
        });
        FakeZenodo { port, files, requests }
    }

    /// Chromium's `--host-resolver-rules` value that sends `zenodo.org` here.
    pub fn host_rule(&self) -> String {
        format!("MAP zenodo.org 127.0.0.1:{}", self.port)
    }

    /// Answers `path` (`/api/records/…/content`) with `bytes`, with or without the CORS header.
    pub fn serve(&self, path: &str, bytes: Vec<u8>, cors: bool) {
        self.files.lock().unwrap().insert(path.to_string(), File { bytes: Arc::new(bytes), cors });
    }

    /// Every request so far: method and path.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}
