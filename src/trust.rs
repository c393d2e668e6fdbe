//! A client's TLS settings: where the roots of trust come from, whether
//! certificates are verified, and the TLS connector built from them.
//!
//! The connector is made once per setting and shared by every connection of the
//! client (and of its clones): it builds the rustls configuration on the first
//! TLS connection and keeps it, so the trust store is read once per client, not
//! once per stream, and the configuration's session cache lets a new connection
//! to a server resume an earlier TLS session. Every setter makes a new connector:
//! choosing the trust store again reads it again (the documented way to pick up a
//! changed system store); streams already running keep the one they started with.

use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::transport::{ConnectionDetails, Connector, RustlsConnector, Transport};

use crate::error::{Error, Result, Status};

/// Where the roots of trust for TLS certificates come from. What each store is
/// (and which is the default) is written once, on its C form with the ABI's
/// numbers, [`ffi::backend_api_trust_store`](crate::ffi::backend_api_trust_store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustStore {
    Platform,
    Bundled,
}

impl TrustStore {
    /// The store's roots as they are, for ureq.
    fn roots(self) -> RootCerts {
        match self {
            TrustStore::Bundled => RootCerts::WebPki,
            _ => RootCerts::PlatformVerifier,
        }
    }
}

impl Default for TrustStore {
    fn default() -> TrustStore {
        if cfg!(feature = "bundled-roots") {
            TrustStore::Bundled
        } else {
            TrustStore::Platform
        }
    }
}

/// The roots of trust: a base and certificates added to it.
#[derive(Debug, Clone, Default)]
struct Trust {
    store: TrustStore,
    /// Set by [`Tls::set_ca_file`]: these certificates replace the store.
    only: Option<Vec<Certificate<'static>>>,
    /// Added by [`Tls::add_ca_file`] to the store (or to `only`).
    added: Vec<Certificate<'static>>,
}

impl Trust {
    /// The roots for ureq: the platform verifier or the bundled roots as they are, or,
    /// once a file replaced or added to them, one list of certificates. Adding to the
    /// platform store reads its certificates (rustls-native-certs, the source the
    /// platform verifier reads on Linux); on macOS and Windows the roots of the
    /// system's store are then checked by rustls' verifier instead of the system's.
    fn roots(&self) -> Result<RootCerts> {
        if let Some(only) = &self.only {
            let all = only.iter().chain(&self.added).cloned().collect::<Vec<_>>();
            return Ok(RootCerts::Specific(Arc::new(all)));
        }
        if self.added.is_empty() {
            return Ok(self.store.roots());
        }
        let mut all: Vec<Certificate<'static>> = match self.store {
            TrustStore::Platform => {
                let found = rustls_native_certs::load_native_certs();
                if found.certs.is_empty() {
                    let why = found
                        .errors
                        .first()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    return Err(Error::new(
                        Status::Tls,
                        format!("no certificates in the system's trust store{why}"),
                    ));
                }
                found
                    .certs
                    .iter()
                    .map(|c| Certificate::from_der(c.as_ref()).to_owned())
                    .collect()
            }
            TrustStore::Bundled => webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .map(|c| Certificate::from_der(c.as_ref()))
                .collect(),
        };
        all.extend(self.added.iter().cloned());
        Ok(RootCerts::Specific(Arc::new(all)))
    }
}

/// The certificates of a PEM file; at least one.
fn read_ca_file(path: &str) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path)
        .map_err(|e| Error::invalid(format!("cannot read CA file {path:?}: {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        if let PemItem::Certificate(c) =
            item.map_err(|e| Error::new(Status::Tls, format!("bad PEM in {path:?}: {e}")))?
        {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err(Error::new(
            Status::Tls,
            format!("no certificate found in {path:?}"),
        ));
    }
    Ok(certs)
}

/// A client's TLS settings and the connector made from them (see the module docs).
#[derive(Clone)]
pub(crate) struct Tls {
    verify: bool,
    trust: Trust,
    /// What the agents use, worked out when a setter changes the rest.
    config: TlsConfig,
    connector: SharedTls,
}

impl Default for Tls {
    fn default() -> Tls {
        let trust = Trust::default();
        Tls::made(true, trust.clone(), trust.store.roots())
    }
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("verify", &self.verify)
            .field("trust_store", &self.trust.store)
            .field("ca_file_only", &self.trust.only.is_some())
            .field("ca_added", &self.trust.added.len())
            .finish()
    }
}

impl Tls {
    /// The settings with a new connector, which builds its configuration on first use.
    fn made(verify: bool, trust: Trust, roots: RootCerts) -> Tls {
        let config = TlsConfig::builder()
            .root_certs(roots)
            .disable_verification(!verify)
            .build();
        Tls {
            verify,
            trust,
            config,
            connector: SharedTls::default(),
        }
    }

    /// Applies `change` to the roots and works them out again; on failure nothing changes.
    fn update(&mut self, change: impl FnOnce(&mut Trust)) -> Result<()> {
        let mut trust = self.trust.clone();
        change(&mut trust);
        let roots = trust.roots()?;
        *self = Tls::made(self.verify, trust, roots);
        Ok(())
    }

    /// Turns certificate verification on or off.
    pub(crate) fn set_verify(&mut self, verify: bool) {
        let roots = self.config.root_certs().clone();
        *self = Tls::made(verify, self.trust.clone(), roots);
    }

    /// Trusts only the certificates of a PEM file (read now).
    pub(crate) fn set_ca_file(&mut self, path: &str) -> Result<()> {
        let certs = read_ca_file(path)?;
        self.update(|t| {
            t.only = Some(certs);
            t.added.clear();
        })
    }

    /// Trusts the certificates of a PEM file (read now) besides the roots already trusted.
    pub(crate) fn add_ca_file(&mut self, path: &str) -> Result<()> {
        let certs = read_ca_file(path)?;
        self.update(|t| t.added.extend(certs))
    }

    /// Chooses the trust store; ends a [`Tls::set_ca_file`].
    pub(crate) fn set_trust_store(&mut self, store: TrustStore) -> Result<()> {
        self.update(|t| {
            t.store = store;
            t.only = None;
        })
    }

    /// The TLS configuration for an agent.
    pub(crate) fn config(&self) -> TlsConfig {
        self.config.clone()
    }

    /// The connector that wraps this client's connections in TLS.
    pub(crate) fn connector(&self) -> SharedTls {
        self.connector.clone()
    }
}

/// ureq's rustls connector, shared: it keeps the rustls configuration (with the
/// verifier and its roots, and the TLS session cache) built on its first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedTls(Arc<RustlsConnector>);

impl<In: Transport> Connector<In> for SharedTls
where
    RustlsConnector: Connector<In>,
{
    type Out = <RustlsConnector as Connector<In>>::Out;

    /// ureq's connector keeps its configuration only for agent-level settings:
    /// the client's requests carry their timeouts as request-level settings, with
    /// the agent's TLS settings unchanged, so the connection is made as for the
    /// agent's (else each connection would build a configuration of its own,
    /// reading the trust store again and resuming no session).
    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        let as_agent = ConnectionDetails {
            uri: details.uri,
            addrs: details.addrs.clone(),
            config: details.config,
            request_level: false,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: details.register_shutdown.clone(),
        };
        self.0.connect(&as_agent, chained)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_gets_its_own_connector_and_clones_share_it() {
        let mut tls = Tls::default();
        let same = tls.clone();
        assert!(Arc::ptr_eq(&tls.connector().0, &same.connector().0));
        tls.set_verify(false);
        assert!(!Arc::ptr_eq(&tls.connector().0, &same.connector().0));
        assert!(tls.config().disable_verification());
        let before = tls.connector();
        tls.set_trust_store(TrustStore::Bundled).unwrap();
        assert!(!Arc::ptr_eq(&tls.connector().0, &before.0));
        assert!(
            tls.config().disable_verification(),
            "verification stays off"
        );
    }

    #[test]
    fn a_failed_setter_changes_nothing() {
        let mut tls = Tls::default();
        let before = tls.connector();
        assert!(tls.set_ca_file("/nonexistent.pem").is_err());
        assert!(Arc::ptr_eq(&tls.connector().0, &before.0));
    }
}
