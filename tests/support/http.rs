//! Reading one HTTP/1.1 request from a blocking stream: shared by the loopback
//! servers that are not the tokio test backend (TLS, benchmarks, the recorder).

use std::io::BufRead;

/// Reads the request head (its text, line ends kept) and its `Content-Length`
/// body; `None` when the peer closed before a whole head arrived.
pub fn read_request_with_head(r: &mut impl BufRead) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut len = 0usize;
    let mut head = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head.push_str(&line);
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some((head, body)))
}

/// Reads the request head and its `Content-Length` body; `None` when the peer
/// closed before a whole head arrived.
pub fn read_request(r: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    Ok(read_request_with_head(r)?.map(|(_, body)| body))
}
