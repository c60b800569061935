//! A minimal HTTP/1.1 keep-alive client over one TCP connection: enough for the benchmarks
//! and the reliability tests to drive a real server without a client library.

use std::io::{Error, ErrorKind, Result};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

pub struct Conn {
    stream: BufReader<tokio::net::TcpStream>,
}

impl Conn {
    pub async fn open(addr: std::net::SocketAddr) -> Result<Conn> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(s),
        })
    }

    /// Sends a request with an optional bearer token and JSON body; returns the status and
    /// the body (which must carry a Content-Length, as every Yinling answer does).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Result<(u16, Vec<u8>)> {
        let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
        let body = body.unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: yinling\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                Error::new(ErrorKind::InvalidData, format!("bad status line {line:?}"))
            })?;
        let mut len = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(Error::new(ErrorKind::UnexpectedEof, "connection closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v
                    .trim()
                    .parse()
                    .map_err(|_| Error::new(ErrorKind::InvalidData, "bad content-length"))?;
            }
        }
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }

    pub async fn post(
        &mut self,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> Result<(u16, Vec<u8>)> {
        self.request("POST", path, token, Some(body)).await
    }

    pub async fn get(&mut self, path: &str, token: Option<&str>) -> Result<(u16, Vec<u8>)> {
        self.request("GET", path, token, None).await
    }

    /// Logs in through the API and returns the bearer token.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<String> {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        let (status, resp) = self.post("/api/v1/session", None, &body).await?;
        if status != 200 {
            return Err(Error::other(format!(
                "login {username}: {status} {}",
                String::from_utf8_lossy(&resp)
            )));
        }
        serde_json::from_slice::<serde_json::Value>(&resp)
            .ok()
            .and_then(|v| v["token"].as_str().map(str::to_owned))
            .ok_or_else(|| Error::other("no token in the login answer"))
    }
}
