//! PBFT ordering core (under construction).
