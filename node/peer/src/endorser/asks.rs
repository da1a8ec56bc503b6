//! The gateway's endorsement asks, coalesced per endorsing peer.
//!
//! Each endorsing peer (this one included) has a queue. A worker per queue
//! takes everything waiting, up to [`MAX_PROPOSALS_PER_REQUEST`] proposals
//! and [`GROUP_BYTES`] bytes, and
//! serves it as one group: for this peer, one blocking task running
//! [`Endorser::endorse_many`]; for another peer, one p2p request carrying
//! every proposal and one answer per proposal, whose endorsement signatures
//! are then checked in a batch. At most [`IN_FLIGHT`] groups per peer are
//! out at once, so under load the queue fills while they are served and
//! the next group is larger; a lone ask still goes out at once, alone.
//!
//! Each proposal keeps its own answer: grouping changes how proposals
//! travel and how their signatures are checked, not what any of them gets.

use super::{EndorseAnswer, EndorseRequest, Endorser, Refusal, MAX_PROPOSALS_PER_REQUEST};
use crate::network::{Network, ReplicaInfo};
use crate::run::unix_now;
use cryptanet_p2p::{PeerIndex, Transport};
use cryptanet_proto::status::reason;
use cryptanet_types::crypto::seen::verify_each_and_remember;
use cryptanet_types::identity::Role;
use cryptanet_types::{codec, Endorsement, PublicKey, Signature};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// Groups per endorsing peer being served at once.
pub const IN_FLIGHT: usize = 2;

/// Proposal bytes in one group, beyond its first proposal: well inside the
/// 4 MiB limit of an endorsement request on p2p, so small proposals never
/// fail together with a large one.
pub const GROUP_BYTES: usize = 1 << 20;

/// One proposal's outcome: the response bytes and the peer's endorsement
/// over them, or why not.
pub type Answer = Result<(Vec<u8>, Endorsement), Refusal>;

struct Ask {
    proposal: Arc<Vec<u8>>,
    reply: oneshot::Sender<Answer>,
}

/// What the workers share.
struct Shared {
    endorser: Arc<Endorser>,
    transport: Arc<dyn Transport>,
    network: Arc<Network>,
}

/// The per-peer queues.
pub struct Asks {
    queues: HashMap<u32, mpsc::UnboundedSender<Ask>>,
}

impl Asks {
    /// Starts one worker per peer of `network` (needs a tokio runtime).
    pub fn start(
        endorser: Arc<Endorser>,
        transport: Arc<dyn Transport>,
        network: Arc<Network>,
    ) -> Asks {
        let shared = Arc::new(Shared {
            endorser,
            transport,
            network: network.clone(),
        });
        let queues = network
            .replicas
            .iter()
            .map(|r| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(work(rx, r.clone(), shared.clone()));
                (r.index, tx)
            })
            .collect();
        Asks { queues }
    }

    /// Asks `replica` to endorse `proposal`.
    pub async fn ask(&self, replica: &ReplicaInfo, proposal: Arc<Vec<u8>>) -> Answer {
        let unavailable = || {
            Refusal::new(
                reason::PEER_UNAVAILABLE,
                format!("{}: no answer", replica.name),
            )
        };
        let queue = self.queues.get(&replica.index).ok_or_else(unavailable)?;
        let (reply, answer) = oneshot::channel();
        queue
            .send(Ask { proposal, reply })
            .map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }
}

async fn work(mut rx: mpsc::UnboundedReceiver<Ask>, replica: ReplicaInfo, shared: Arc<Shared>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    // An ask that did not fit the previous group opens the next one.
    let mut carried: Option<Ask> = None;
    loop {
        let first = match carried.take() {
            Some(ask) => ask,
            None => match rx.recv().await {
                Some(ask) => ask,
                None => return,
            },
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let group = take_group(first, &mut rx, &mut carried);
        let (replica, shared) = (replica.clone(), shared.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let proposals: Vec<Arc<Vec<u8>>> = group.iter().map(|a| a.proposal.clone()).collect();
            let answers = if replica.index == shared.network.me {
                shared.here(proposals).await
            } else {
                shared.there(&replica, proposals).await
            };
            for (ask, answer) in group.into_iter().zip(answers) {
                // The asker may have given up; nothing to do then.
                let _ = ask.reply.send(answer);
            }
        });
    }
}

/// `first` and what waits behind it in `rx`, up to
/// [`MAX_PROPOSALS_PER_REQUEST`] asks and [`GROUP_BYTES`] bytes beyond the
/// first; an ask that would pass the byte bound is left in `carried` to
/// open the next group.
fn take_group(
    first: Ask,
    rx: &mut mpsc::UnboundedReceiver<Ask>,
    carried: &mut Option<Ask>,
) -> Vec<Ask> {
    let mut bytes = first.proposal.len();
    let mut group = vec![first];
    while group.len() < MAX_PROPOSALS_PER_REQUEST {
        match rx.try_recv() {
            Ok(ask) if bytes + ask.proposal.len() > GROUP_BYTES => {
                *carried = Some(ask);
                break;
            }
            Ok(ask) => {
                bytes += ask.proposal.len();
                group.push(ask);
            }
            Err(_) => break,
        }
    }
    group
}

impl Shared {
    /// This peer's endorsements (signed here: nothing to check).
    async fn here(&self, proposals: Vec<Arc<Vec<u8>>>) -> Vec<Answer> {
        let n = proposals.len();
        let endorser = self.endorser.clone();
        let answers = tokio::task::spawn_blocking(move || {
            let refs: Vec<&[u8]> = proposals.iter().map(|p| p.as_slice()).collect();
            endorser.endorse_many(&refs, unix_now())
        })
        .await;
        match answers {
            Ok(answers) => answers.into_iter().map(into_answer).collect(),
            Err(e) => vec![Err(Refusal::new(reason::PEER_UNAVAILABLE, e.to_string())); n],
        }
    }

    /// Another peer's endorsements, in one request; each endorsement must be
    /// that peer's valid signature over its response bytes.
    async fn there(&self, replica: &ReplicaInfo, proposals: Vec<Arc<Vec<u8>>>) -> Vec<Answer> {
        let n = proposals.len();
        let fail = |why: String| vec![Err(Refusal::new(reason::PEER_UNAVAILABLE, why)); n];
        let request = EndorseRequest {
            min_height: self.endorser.height(),
            signed_proposals: proposals.iter().map(|p| p.to_vec()).collect(),
        };
        let bytes = match codec::encode(&request) {
            Ok(b) => b,
            Err(e) => return fail(e.to_string()),
        };
        let answer = match self
            .transport
            .request_endorsement(PeerIndex(replica.index), bytes)
            .await
        {
            Ok(a) => a,
            Err(e) => return fail(format!("{}: {e}", replica.name)),
        };
        let answers: Vec<EndorseAnswer> = match codec::decode(&answer) {
            Ok(a) => a,
            Err(e) => return fail(format!("{}: undecodable answer: {e}", replica.name)),
        };
        if answers.len() != n {
            return fail(format!(
                "{}: {} answers to {n} proposals",
                replica.name,
                answers.len()
            ));
        }
        let mut answers: Vec<Answer> = answers.into_iter().map(into_answer).collect();
        self.check_signatures(replica, &mut answers);
        answers
    }

    /// A peer may only sign as itself, with a valid signature: endorsements
    /// that are not are turned into `BAD_SIGNATURE` refusals.
    fn check_signatures(&self, replica: &ReplicaInfo, answers: &mut [Answer]) {
        let forged = || {
            Err(Refusal::new(
                reason::BAD_SIGNATURE,
                format!(
                    "{} returned an endorsement that does not verify",
                    replica.name
                ),
            ))
        };
        let key: Option<PublicKey> = self
            .network
            .verifier
            .public_key(&replica.cert_der, Some(Role::Peer), unix_now())
            .ok();
        let mut checked: Vec<usize> = Vec::new();
        let mut items: Vec<(&[u8], &Signature, &PublicKey)> = Vec::new();
        if let Some(key) = &key {
            for (i, a) in answers.iter().enumerate() {
                if let Ok((bytes, e)) = a {
                    if e.endorser == replica.cert_der {
                        checked.push(i);
                        items.push((bytes.as_slice(), &e.signature, key));
                    }
                }
            }
        }
        // Remembered: this peer will not verify them again at commit.
        let ok = verify_each_and_remember(&items);
        let mut valid = vec![false; answers.len()];
        for (i, ok) in checked.into_iter().zip(ok) {
            valid[i] = ok;
        }
        for (a, valid) in answers.iter_mut().zip(valid) {
            if a.is_ok() && !valid {
                *a = forged();
            }
        }
    }
}

fn into_answer(a: EndorseAnswer) -> Answer {
    match a {
        EndorseAnswer::Refused(r) => Err(r),
        EndorseAnswer::Endorsed {
            response_bytes,
            endorsement,
        } => Ok((response_bytes, endorsement)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(len: usize) -> Ask {
        Ask {
            proposal: Arc::new(vec![0; len]),
            reply: oneshot::channel().0,
        }
    }

    /// Sizes of the groups `take_group` forms from asks of `sizes` queued
    /// at once.
    fn groups(sizes: &[usize]) -> Vec<Vec<usize>> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for &n in sizes {
            tx.send(ask(n)).unwrap_or_else(|_| unreachable!());
        }
        drop(tx);
        let mut carried = None;
        let mut out = Vec::new();
        while let Some(first) = carried.take().or_else(|| rx.try_recv().ok()) {
            let g = take_group(first, &mut rx, &mut carried);
            out.push(g.iter().map(|a| a.proposal.len()).collect());
        }
        out
    }

    #[test]
    fn a_large_proposal_never_shares_a_group_past_the_byte_bound() {
        const K: usize = 1 << 10;
        // Small ones, then one near the 4 MiB p2p limit, then small ones:
        // the large one goes alone, nothing is lost or reordered.
        let sizes = [K, K, 4000 * K, K, K];
        assert_eq!(groups(&sizes), [vec![K, K], vec![4000 * K], vec![K, K]]);
        // A large first proposal still goes (alone); the byte bound counts
        // what joins it.
        assert_eq!(
            groups(&[2 * GROUP_BYTES, K]),
            [vec![2 * GROUP_BYTES], vec![K]]
        );
        // Up to the bound they share a group.
        let half = GROUP_BYTES / 2;
        assert_eq!(
            groups(&[K, half, half - K, 1]),
            [vec![K, half, half - K], vec![1]]
        );
    }

    #[test]
    fn a_group_holds_at_most_the_request_count() {
        let sizes = vec![10; MAX_PROPOSALS_PER_REQUEST + 3];
        let got = groups(&sizes);
        assert_eq!(
            got.iter().map(Vec::len).collect::<Vec<_>>(),
            [MAX_PROPOSALS_PER_REQUEST, 3]
        );
    }
}
