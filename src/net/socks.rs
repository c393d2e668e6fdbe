//! The connection through a SOCKS proxy (SOCKS4, SOCKS4A, SOCKS5 with an optional
//! username and password, RFC 1928 and 1929), on the library's own TCP: the
//! proxy's name resolved on the pool, the connect to it, the handshake and every
//! later read and write wait through the operation's [`Link`], so its clocks and
//! its cancel hold as on a direct connection. (ureq's own SOCKS connector blocks
//! in the connect and reads with ureq's timeouts only.)

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use ureq::unversioned::transport::{
    ConnectionDetails, Connector, Either, Transport, TransportAdapter,
};
use ureq::Error;

use super::socket::SocketTransport;

/// Connects through the client's SOCKS proxy, when it has one.
#[derive(Debug)]
pub(crate) struct SocksConnector;

/// What the proxy is asked to connect to.
enum Target<'a> {
    Ip(SocketAddr),
    Name(&'a str, u16),
}

impl<In: Transport> Connector<In> for SocksConnector {
    type Out = Either<In, SocketTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        use ureq::ProxyProtocol as P;
        let proxy = match details.config.proxy() {
            Some(p)
                if matches!(
                    p.protocol(),
                    P::Socks4 | P::Socks4A | P::Socks5 | P::Socks5h
                ) && chained.is_none() =>
            {
                p
            }
            _ => return Ok(chained.map(Either::A)),
        };
        if proxy.is_no_proxy(details.uri) {
            return Ok(None);
        }
        let target = if proxy.resolve_target() {
            Target::Ip(*details.addrs.first().ok_or(Error::HostNotFound)?)
        } else {
            let https = details.uri.scheme_str() == Some("https");
            let port = details
                .uri
                .port_u16()
                .unwrap_or(if https { 443 } else { 80 });
            let host = details.uri.host().ok_or(Error::HostNotFound)?;
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            match bare.parse() {
                Ok(ip) => Target::Ip(SocketAddr::new(ip, port)),
                Err(_) => Target::Name(host, port),
            }
        };
        let addrs = details
            .resolver
            .resolve(proxy.uri(), details.config, details.timeout)?;
        let transport =
            super::operation::link().connect(&addrs, details.config, details.timeout)?;
        let mut w = TransportAdapter::new(transport, details.current_time.clone());
        w.set_timeout(details.timeout);
        handshake(&mut w, proxy, target).map_err(|e| match Error::from(e) {
            // The wait's own errors (a cancel, a timeout) come back as they were.
            Error::Io(e) if e.kind() == io::ErrorKind::ConnectionAborted => Error::Io(e),
            Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Error::ConnectProxyFailed("the SOCKS proxy closed the connection".into())
            }
            Error::Io(e) => Error::ConnectProxyFailed(format!("SOCKS proxy: {e}")),
            other => other,
        })?;
        Ok(Some(Either::B(w.into_inner())))
    }
}

fn handshake(w: &mut (impl Read + Write), proxy: &ureq::Proxy, target: Target) -> io::Result<()> {
    use ureq::ProxyProtocol as P;
    match proxy.protocol() {
        P::Socks4 | P::Socks4A => socks4(w, target),
        _ => socks5(w, proxy, target),
    }
}

fn refused(why: &str) -> io::Error {
    io::Error::other(why.to_owned())
}

/// SOCKS4 CONNECT; SOCKS4A for a host name. The user id is empty.
fn socks4(w: &mut (impl Read + Write), target: Target) -> io::Result<()> {
    let mut request = vec![4, 1];
    match target {
        Target::Ip(SocketAddr::V4(a)) => {
            request.extend_from_slice(&a.port().to_be_bytes());
            request.extend_from_slice(&a.ip().octets());
            request.push(0);
        }
        Target::Ip(SocketAddr::V6(_)) => return Err(refused("SOCKS4 has no IPv6")),
        Target::Name(host, port) => {
            request.extend_from_slice(&port.to_be_bytes());
            request.extend_from_slice(&[0, 0, 0, 1, 0]);
            request.extend_from_slice(host.as_bytes());
            request.push(0);
        }
    }
    w.write_all(&request)?;
    w.flush()?;
    let mut reply = [0; 8];
    w.read_exact(&mut reply)?;
    match reply {
        [0, 90, ..] => Ok(()),
        [0, code, ..] => Err(refused(&format!("request refused (code {code})"))),
        _ => Err(refused("not a SOCKS4 reply")),
    }
}

/// SOCKS5 CONNECT, with username and password when the proxy URL has them.
fn socks5(w: &mut (impl Read + Write), proxy: &ureq::Proxy, target: Target) -> io::Result<()> {
    let user = proxy.username();
    w.write_all(if user.is_some() {
        &[5, 2, 2, 0]
    } else {
        &[5, 1, 0]
    })?;
    w.flush()?;
    let mut reply = [0; 2];
    w.read_exact(&mut reply)?;
    match (reply, user) {
        ([5, 0], _) => {}
        ([5, 2], Some(user)) => {
            let password = proxy.password().unwrap_or("");
            let (u, p) = (user.as_bytes(), password.as_bytes());
            if u.is_empty() || u.len() > 255 || p.is_empty() || p.len() > 255 {
                return Err(refused("a username and password of 1 to 255 bytes"));
            }
            let mut auth = vec![1, u.len() as u8];
            auth.extend_from_slice(u);
            auth.push(p.len() as u8);
            auth.extend_from_slice(p);
            w.write_all(&auth)?;
            w.flush()?;
            w.read_exact(&mut reply)?;
            if reply[1] != 0 {
                return Err(refused("the username and password were refused"));
            }
        }
        ([5, _], _) => return Err(refused("no acceptable authentication method")),
        _ => return Err(refused("not a SOCKS5 reply")),
    }
    let mut request = vec![5, 1, 0];
    let port = match target {
        Target::Ip(SocketAddr::V4(a)) => {
            request.push(1);
            request.extend_from_slice(&a.ip().octets());
            a.port()
        }
        Target::Ip(SocketAddr::V6(a)) => {
            request.push(4);
            request.extend_from_slice(&a.ip().octets());
            a.port()
        }
        Target::Name(host, port) => {
            let len = u8::try_from(host.len()).map_err(|_| refused("host name too long"))?;
            request.extend_from_slice(&[3, len]);
            request.extend_from_slice(host.as_bytes());
            port
        }
    };
    request.extend_from_slice(&port.to_be_bytes());
    w.write_all(&request)?;
    w.flush()?;
    let mut head = [0; 4];
    w.read_exact(&mut head)?;
    if head[0] != 5 {
        return Err(refused("not a SOCKS5 reply"));
    }
    if head[1] != 0 {
        return Err(refused(&format!("connect refused (code {})", head[1])));
    }
    // The address the proxy bound, then its port: read past.
    let len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut n = [0];
            w.read_exact(&mut n)?;
            n[0] as usize
        }
        _ => return Err(refused("unknown address type")),
    };
    let mut bound = [0; 258];
    w.read_exact(&mut bound[..len + 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proxy's side of a handshake: the bytes it answers, and what it was sent.
    struct Script {
        answer: io::Cursor<Vec<u8>>,
        sent: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
            self.answer.read(b)
        }
    }

    impl Write for Script {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.sent.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(proxy: &str, target: Target, answer: &[u8]) -> (io::Result<()>, Vec<u8>) {
        let proxy = ureq::Proxy::new(proxy).unwrap();
        let mut s = Script {
            answer: io::Cursor::new(answer.to_vec()),
            sent: Vec::new(),
        };
        (handshake(&mut s, &proxy, target), s.sent)
    }

    const SUCCEEDED: [u8; 10] = [5, 0, 0, 1, 0, 0, 0, 0, 0, 0];

    #[test]
    fn socks5_with_and_without_a_password() {
        let ip = Target::Ip("127.0.0.1:8080".parse().unwrap());
        let (got, sent) = run(
            "socks5://127.0.0.1:1080",
            ip,
            &[[5, 0].as_slice(), &SUCCEEDED].concat(),
        );
        got.unwrap();
        assert_eq!(sent, [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90]);
        let name = Target::Name("example.test", 443);
        let answer = [[5, 2, 1, 0].as_slice(), &SUCCEEDED].concat();
        let (got, sent) = run("socks5h://u:pw@127.0.0.1:1080", name, &answer);
        got.unwrap();
        let mut want = vec![5, 2, 2, 0, 1, 1, b'u', 2, b'p', b'w', 5, 1, 0, 3, 12];
        want.extend_from_slice(b"example.test");
        want.extend_from_slice(&[1, 187]);
        assert_eq!(sent, want);
    }

    #[test]
    fn socks_refusals_and_short_answers_are_errors() {
        let ip = || Target::Ip("127.0.0.1:80".parse().unwrap());
        let (got, _) = run("socks5://127.0.0.1:1", ip(), &[5, 0, 5, 5, 0, 1]);
        assert!(got.unwrap_err().to_string().contains("code 5"));
        let (got, _) = run("socks5://u:p@127.0.0.1:1", ip(), &[5, 2, 1, 1]);
        assert!(got.unwrap_err().to_string().contains("refused"));
        let (got, _) = run("socks5://127.0.0.1:1", ip(), &[5]);
        assert_eq!(got.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        let (got, _) = run("socks4://127.0.0.1:1", ip(), &[0, 91, 0, 0, 0, 0, 0, 0]);
        assert!(got.unwrap_err().to_string().contains("code 91"));
    }

    #[test]
    fn socks4a_sends_the_name() {
        let (got, sent) = run(
            "socks4a://127.0.0.1:1080",
            Target::Name("host", 80),
            &[0, 90, 0, 0, 0, 0, 0, 0],
        );
        got.unwrap();
        assert_eq!(sent, b"\x04\x01\x00\x50\x00\x00\x00\x01\x00host\x00");
    }
}
