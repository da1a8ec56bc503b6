//! Endorsement policies in Fabric's signature-policy syntax, and their
//! evaluation.
//!
//! ```text
//! policy    := "AND" "(" policy {"," policy} ")"
//!            | "OR"  "(" policy {"," policy} ")"
//!            | "OutOf" "(" integer "," policy {"," policy} ")"
//!            | principal
//! principal := "'" msp_id "." role "'"      role: member | peer | admin | client
//! ```
//!
//! Keywords are case-insensitive; principals may use single or double
//! quotes. `AND` is n-out-of-n, `OR` 1-out-of-n. Evaluation is pure and
//! follows Fabric: each signer satisfies at most one principal, children are
//! tried in order and a satisfied child keeps the signers it used.

use crate::error::{Error, Result};
use cryptanet_types::identity::Role;
use std::fmt;

/// Longest policy text accepted.
pub const MAX_POLICY_LEN: usize = 4096;
/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 16;

/// The role part of a principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalRole {
    /// Any identity of the org.
    Member,
    /// A peer of the org.
    Peer,
    /// An admin of the org.
    Admin,
    /// A client of the org.
    Client,
}

impl PrincipalRole {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "member" => Some(Self::Member),
            "peer" => Some(Self::Peer),
            "admin" => Some(Self::Admin),
            "client" => Some(Self::Client),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Peer => "peer",
            Self::Admin => "admin",
            Self::Client => "client",
        }
    }

    fn accepts(self, role: Role) -> bool {
        match self {
            Self::Member => true,
            Self::Peer => role == Role::Peer,
            Self::Admin => role == Role::Admin,
            Self::Client => role == Role::Client,
        }
    }
}

/// `'MSPID.role'`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Principal {
    /// Organisation MSP id.
    pub msp_id: String,
    /// Required role.
    pub role: PrincipalRole,
}

/// A verified signer: its org and role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// MSP id of the signer's organisation.
    pub msp_id: String,
    /// Role in its certificate.
    pub role: Role,
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// One signature by a matching identity.
    Signed(Principal),
    /// At least `n` of `rules`.
    OutOf {
        /// Required count.
        n: usize,
        /// Sub-policies.
        rules: Vec<Policy>,
    },
}

impl Policy {
    /// Parses policy text.
    pub fn parse(text: &str) -> Result<Policy> {
        if text.len() > MAX_POLICY_LEN {
            return Err(Error::PolicySyntax {
                position: MAX_POLICY_LEN,
                expected: "a shorter policy",
            });
        }
        let mut p = Parser {
            s: text.as_bytes(),
            pos: 0,
        };
        let policy = p.policy(0)?;
        p.skip_ws();
        if p.pos != p.s.len() {
            return Err(p.err("end of policy"));
        }
        Ok(policy)
    }

    /// True when `signers` (one entry per distinct signing identity)
    /// satisfy the policy.
    pub fn is_satisfied_by(&self, signers: &[Signer]) -> bool {
        let mut used = vec![false; signers.len()];
        self.eval(signers, &mut used)
    }

    fn eval(&self, signers: &[Signer], used: &mut [bool]) -> bool {
        match self {
            Policy::Signed(p) => {
                let hit = signers
                    .iter()
                    .zip(used.iter())
                    .position(|(s, &u)| !u && s.msp_id == p.msp_id && p.role.accepts(s.role));
                match hit {
                    Some(i) => {
                        used[i] = true;
                        true
                    }
                    None => false,
                }
            }
            Policy::OutOf { n, rules } => {
                let mut count = 0;
                for rule in rules {
                    let mut trial = used.to_vec();
                    if rule.eval(signers, &mut trial) {
                        used.copy_from_slice(&trial);
                        count += 1;
                    }
                }
                count >= *n
            }
        }
    }

    /// Every principal named in the policy, sorted and deduplicated.
    pub fn principals(&self) -> Vec<Principal> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out.sort();
        out.dedup();
        out
    }

    fn collect(&self, out: &mut Vec<Principal>) {
        match self {
            Policy::Signed(p) => out.push(p.clone()),
            Policy::OutOf { rules, .. } => rules.iter().for_each(|r| r.collect(out)),
        }
    }
}

impl fmt::Display for Policy {
    /// The canonical text: `OutOf(n, ...)` for every combinator.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Signed(p) => write!(f, "'{}.{}'", p.msp_id, p.role.as_str()),
            Policy::OutOf { n, rules } => {
                write!(f, "OutOf({n}")?;
                for r in rules {
                    write!(f, ", {r}")?;
                }
                f.write_str(")")
            }
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, expected: &'static str) -> Error {
        Error::PolicySyntax {
            position: self.pos,
            expected,
        }
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8, expected: &'static str) -> Result<()> {
        self.skip_ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(expected))
        }
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_alphanumeric) {
            self.pos += 1;
        }
        // ASCII alphanumerics only, so always valid UTF-8.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    fn policy(&mut self, depth: usize) -> Result<Policy> {
        if depth > MAX_DEPTH {
            return Err(self.err("less nesting"));
        }
        self.skip_ws();
        match self.s.get(self.pos) {
            Some(b'\'' | b'"') => self.principal(),
            Some(_) => {
                let at = self.pos;
                let word = self.word().to_ascii_lowercase();
                let n = match word.as_str() {
                    "and" | "or" => None,
                    "outof" => Some(()),
                    _ => {
                        self.pos = at;
                        return Err(self.err("AND, OR, OutOf or a quoted principal"));
                    }
                };
                self.eat(b'(', "'('")?;
                let required = match n {
                    Some(()) => {
                        let count = self.integer()?;
                        self.eat(b',', "','")?;
                        Some(count)
                    }
                    None => None,
                };
                let mut rules = vec![self.policy(depth + 1)?];
                loop {
                    self.skip_ws();
                    match self.s.get(self.pos) {
                        Some(b',') => {
                            self.pos += 1;
                            rules.push(self.policy(depth + 1)?);
                        }
                        Some(b')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("',' or ')'")),
                    }
                }
                let n = match (word.as_str(), required) {
                    ("and", _) => rules.len(),
                    ("or", _) => 1,
                    (_, Some(k)) => k,
                    _ => return Err(self.err("a count")),
                };
                if n == 0 || n > rules.len() {
                    return Err(Error::PolicySyntax {
                        position: at,
                        expected: "a count between 1 and the number of rules",
                    });
                }
                Ok(Policy::OutOf { n, rules })
            }
            None => Err(self.err("a policy")),
        }
    }

    fn integer(&mut self) -> Result<usize> {
        self.skip_ws();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos])
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(Error::PolicySyntax {
                position: start,
                expected: "an integer",
            })
    }

    fn principal(&mut self) -> Result<Policy> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(|&c| c != quote) {
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return Err(self.err("a closing quote"));
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("UTF-8"))?;
        self.pos += 1;
        let (msp_id, role) = text.rsplit_once('.').ok_or(Error::PolicySyntax {
            position: start,
            expected: "'MSPID.role'",
        })?;
        let role = PrincipalRole::parse(role).ok_or(Error::PolicySyntax {
            position: start + msp_id.len() + 1,
            expected: "member, peer, admin or client",
        })?;
        if msp_id.is_empty() {
            return Err(Error::PolicySyntax {
                position: start,
                expected: "an MSP id",
            });
        }
        Ok(Policy::Signed(Principal {
            msp_id: msp_id.to_owned(),
            role,
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn s(msp: &str, role: Role) -> Signer {
        Signer {
            msp_id: msp.into(),
            role,
        }
    }

    #[test]
    fn parses_fabric_syntax_and_prints_canonically() {
        let p = Policy::parse("OutOf(2, 'Org1.peer', 'Org2.peer', \"Org3.member\")").unwrap();
        assert_eq!(
            p.to_string(),
            "OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.member')"
        );
        assert_eq!(Policy::parse(&p.to_string()).unwrap(), p);
        let q = Policy::parse("and('A.member', OR('B.admin','C.client'))").unwrap();
        assert_eq!(
            q.to_string(),
            "OutOf(2, 'A.member', OutOf(1, 'B.admin', 'C.client'))"
        );
        assert_eq!(q.principals().len(), 3);
    }

    #[test]
    fn syntax_errors_are_positioned() {
        for (text, pos) in [
            ("", 0),
            ("XOR('A.peer')", 0),
            ("AND('A.peer'", 12),
            ("'A.boss'", 3),
            ("'Apeer'", 1),
            ("OutOf(3, 'A.peer', 'B.peer')", 0),
            ("OutOf(x, 'A.peer')", 6),
            ("'A.peer' junk", 9),
        ] {
            match Policy::parse(text) {
                Err(Error::PolicySyntax { position, .. }) => assert_eq!(position, pos, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let deep = "AND(".repeat(40) + "'A.peer'" + &")".repeat(40);
        assert!(Policy::parse(&deep).is_err());
    }

    #[test]
    fn evaluation_uses_each_signer_once() {
        let p = Policy::parse("OutOf(2, 'Org1.peer', 'Org2.peer', 'Org3.peer')").unwrap();
        assert!(!p.is_satisfied_by(&[s("Org1", Role::Peer)]));
        assert!(p.is_satisfied_by(&[s("Org1", Role::Peer), s("Org3", Role::Peer)]));
        assert!(!p.is_satisfied_by(&[s("Org1", Role::Peer), s("Org3", Role::Client)]));
        let two_of_org1 = Policy::parse("AND('Org1.member', 'Org1.member')").unwrap();
        assert!(!two_of_org1.is_satisfied_by(&[s("Org1", Role::Peer)]));
        assert!(two_of_org1.is_satisfied_by(&[s("Org1", Role::Peer), s("Org1", Role::Admin)]));
        let nested = Policy::parse("AND('A.admin', OR('B.peer', 'C.peer'))").unwrap();
        assert!(nested.is_satisfied_by(&[s("C", Role::Peer), s("A", Role::Admin)]));
        assert!(!nested.is_satisfied_by(&[s("A", Role::Admin), s("A", Role::Peer)]));
    }
}
