//! # cryptanet-p2p
//!
//! The permissioned peer-to-peer transport of CryptaNet.
//!
//! Peers are numbered `0..n` by the [`NetworkDefinition`] (each with its
//! certificate public key and listen address). Three kinds of traffic flow
//! between them, as opaque bytes already encoded by the caller:
//!
//! * consensus messages to a given replica ([`Transport::send`],
//!   [`Transport::broadcast`]);
//! * client envelopes forwarded to the current primary
//!   ([`Transport::forward_envelope`]);
//! * block sync for catch-up ([`Transport::request_blocks`], answered through
//!   [`Event::SyncRequest`]).
//!
//! Two implementations share the [`Transport`] trait: [`Libp2pTransport`]
//! (TCP + noise + yamux, identities bound to certificate keys, strangers
//! refused at connection time) and [`MemoryTransport`] (a [`MemoryHub`] of
//! bounded channels with link controls, for tests and simulation).
//!
//! [`Outgoing`] puts byte-bounded, never-blocking per-peer queues in front
//! of a transport (drop-newest when full, counted and logged).
//!
//! Oversize or malformed messages are dropped, logged with `tracing` and
//! counted in [`Metrics`]; they never panic.
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod event;
pub mod memory;
pub mod metrics;
pub mod net;
pub mod outgoing;
pub mod peer;
pub mod transport;

pub use config::{BackoffConfig, Config, Limits};
pub use error::{Error, MessageKind, RequestFailure, Result};
pub use event::{Event, Incoming, Reply, SyncReply, SyncRequest};
pub use libp2p::{Multiaddr, PeerId};
pub use memory::{MemoryHub, MemoryTransport};
pub use metrics::{Metrics, MetricsSnapshot};
pub use net::Libp2pTransport;
pub use outgoing::Outgoing;
pub use peer::{libp2p_keypair, peer_id_of, NetworkDefinition, PeerIndex, PeerInfo};
pub use transport::Transport;
